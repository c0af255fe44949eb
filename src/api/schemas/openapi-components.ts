import { BranchLayerSpecSchema, LayerSpecSchema } from '../../model-spec/index.js';
import { DatasetRefSchema, EpochMetricSchema, JobListSchema, MetricsListSchema, ModelInputSchema, SubmitJobBodySchema } from '../routes/jobs/jobs.schema.js';
import { ModelListSchema, PredictBodySchema, PredictResponseSchema } from '../routes/models/models.schema.js';
import { LayerPlanSchema, PlanRequestSchema } from '../routes/plan/plan.schema.js';
import { RegisteredModelListSchema } from '../routes/registered-models/registered-models.schema.js';
import { ModelMetadataSchema as TfModelMetadataSchema, ModelStatusSchema, TfPredictBodySchema, TfPredictResponseSchema } from '../routes/tfserving/tfserving.schema.js';
import { InferRequestSchema, InferResponseSchema, ModelMetadataSchema as KserveModelMetadataSchema } from '../routes/kserve/kserve.schema.js';

/**
 * Shared schemas without a `title` that the OpenAPI document publishes under
 * these names in `components.schemas` (schemas with a `title`, such as Job,
 * ModelSpec, Problem or each layer, are published under their title). They
 * are the names a generated client's types get, so keep them stable.
 */
export const OPENAPI_COMPONENTS = {
  LayerSpec: LayerSpecSchema,
  BranchLayerSpec: BranchLayerSpecSchema,
  ModelInput: ModelInputSchema,
  DatasetRef: DatasetRefSchema,
  SubmitJobRequest: SubmitJobBodySchema,
  EpochMetric: EpochMetricSchema,
  JobList: JobListSchema,
  JobMetrics: MetricsListSchema,
  ModelList: ModelListSchema,
  PredictRequest: PredictBodySchema,
  PredictResponse: PredictResponseSchema,
  PlanRequest: PlanRequestSchema,
  LayerPlan: LayerPlanSchema,
  RegisteredModelList: RegisteredModelListSchema,
  TfservingPredictRequest: TfPredictBodySchema,
  TfservingPredictResponse: TfPredictResponseSchema,
  TfservingModelStatus: ModelStatusSchema,
  TfservingModelMetadata: TfModelMetadataSchema,
  KserveInferRequest: InferRequestSchema,
  KserveInferResponse: InferResponseSchema,
  KserveModelMetadata: KserveModelMetadataSchema,
} as const;

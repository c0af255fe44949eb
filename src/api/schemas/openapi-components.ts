import { BranchLayerSpecSchema, Conv2dLayerSchema, LayerSpecSchema } from '../../model-spec/index.js';
import { RegisteredModelNameSchema } from '../../storage/registry.schema.js';
import { DatasetRefSchema, EpochMetricSchema, JobListSchema, MetricsListSchema, ModelInputSchema, SubmitJobBodySchema } from '../routes/jobs/jobs.schema.js';
import { ModelListSchema, PredictBodySchema, PredictResponseSchema } from '../routes/models/models.schema.js';
import { LayerPlanSchema, ModelPlanSchema, PlanRequestSchema } from '../routes/plan/plan.schema.js';
import { RegisteredModelListSchema, RegisteredModelSchema } from '../routes/registered-models/registered-models.schema.js';
import { ModelMetadataSchema as TfModelMetadataSchema, ModelStatusSchema, TfPredictBodySchema, TfPredictResponseSchema } from '../routes/tfserving/tfserving.schema.js';
import {
  InferRequestSchema,
  InferResponseSchema,
  ModelMetadataSchema as KserveModelMetadataSchema,
  ModelReadySchema as KserveModelReadySchema,
} from '../routes/kserve/kserve.schema.js';
import { UuidSchema } from './common.schema.js';
import { useSharedErrorResponses } from './error-responses.js';
import { transformOpenApiDocument } from './openapi-document.js';
import { useOperationComponents, type ParameterSource } from './operation-components.js';

/** `schema` without its description and default (see OPENAPI_COMPONENTS). */
function bare(schema: object): object {
  const { description: _description, default: _default, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/**
 * Shared schemas without a `title` that the OpenAPI document publishes under
 * these names in `components.schemas` (schemas with a `title`, such as Job,
 * ModelSpec, Problem or each layer, are published under their title). They
 * are the names a generated client's types get, so keep them stable.
 *
 * A listed schema is recognised wherever it appears with the description
 * and default it has; one listed without them (`bare`) also where a use
 * has its own, which stay beside the `$ref`: so the layer fields below,
 * described anew on each layer type, are defined once.
 */
export const OPENAPI_COMPONENTS = {
  Uuid: UuidSchema,
  LayerSpec: LayerSpecSchema,
  BranchLayerSpec: BranchLayerSpecSchema,
  LayerName: Conv2dLayerSchema.properties.name,
  WindowSize: bare(Conv2dLayerSchema.properties.kernelSize),
  Activation: bare(Conv2dLayerSchema.properties.activation),
  Initializer: bare(Conv2dLayerSchema.properties.kernelInitializer),
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
  Shape: ModelPlanSchema.properties.inputShape,
  RegisteredModelName: bare(RegisteredModelNameSchema),
  RegisteredModelList: RegisteredModelListSchema,
  RegisteredModelAliases: RegisteredModelSchema.properties.aliases,
  TfservingPredictRequest: TfPredictBodySchema,
  TfservingPredictResponse: TfPredictResponseSchema,
  TfservingModelStatus: ModelStatusSchema,
  TfservingModelMetadata: TfModelMetadataSchema,
  KserveInferRequest: InferRequestSchema,
  KserveParameters: InferRequestSchema.properties.parameters,
  KserveInferResponse: InferResponseSchema,
  KserveModelMetadata: KserveModelMetadataSchema,
  KserveTensorMetadata: KserveModelMetadataSchema.properties.inputs.items,
  KserveModelReady: KserveModelReadySchema,
} as const;

/**
 * Parameters that several operations take, published once in
 * `components.parameters` under these names: each is taken from the
 * operation (by operationId) and parameter named here, and every operation
 * that declares the same parameter refers to it.
 */
export const OPENAPI_PARAMETERS: Record<string, ParameterSource> = {
  Id: ['getJob', 'id'],
  DatasetId: ['getDataset', 'id'],
  PageLimit: ['listJobs', 'limit'],
  PageCursor: ['listJobs', 'cursor'],
  RegisteredModelName: ['getRegisteredModel', 'name'],
  VersionNumber: ['getModelVersion', 'version'],
  Alias: ['setModelAlias', 'alias'],
  TenantId: ['listApiKeys', 'tenantId'],
  ServedModelName: ['tfservingPredict', 'name'],
  ServedModelVersion: ['tfservingPredictVersion', 'version'],
  VersionLabel: ['tfservingPredictLabel', 'label'],
  WebhookDeliveryId: ['getWebhookDelivery', 'deliveryId'],
  ByteRange: ['getModelArtifactWeights', 'range'],
  LastEventId: ['streamJobEvents', 'lastEventId'],
};

/**
 * The document @fastify/swagger builds from the route schemas, as /docs/json
 * and openapi.yaml publish it: valid OpenAPI 3.1 with named schemas
 * (openapi-document.ts), error responses shared by status
 * (error-responses.ts), and repeated parameters, responses and request
 * bodies defined once (operation-components.ts).
 */
export function publishOpenApiDocument(document: object): object {
  const doc = transformOpenApiDocument(document, { components: OPENAPI_COMPONENTS });
  return useOperationComponents(useSharedErrorResponses(doc), { parameters: OPENAPI_PARAMETERS });
}

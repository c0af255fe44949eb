-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "registerName" TEXT;

-- CreateTable
CREATE TABLE "registered_models" (
    "id" UUID NOT NULL,
    "tenantId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "lastVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "registered_models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_versions" (
    "id" UUID NOT NULL,
    "registeredModelId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "modelId" UUID NOT NULL,
    "lineage" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_aliases" (
    "id" UUID NOT NULL,
    "registeredModelId" UUID NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "model_aliases_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "registered_models_tenantId_name_key" ON "registered_models"("tenantId", "name");

-- CreateIndex
CREATE INDEX "model_versions_modelId_idx" ON "model_versions"("modelId");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_registeredModelId_version_key" ON "model_versions"("registeredModelId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_registeredModelId_modelId_key" ON "model_versions"("registeredModelId", "modelId");

-- CreateIndex
CREATE INDEX "model_aliases_versionId_idx" ON "model_aliases"("versionId");

-- CreateIndex
CREATE UNIQUE INDEX "model_aliases_registeredModelId_alias_key" ON "model_aliases"("registeredModelId", "alias");

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_registeredModelId_fkey" FOREIGN KEY ("registeredModelId") REFERENCES "registered_models"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_registeredModelId_fkey" FOREIGN KEY ("registeredModelId") REFERENCES "registered_models"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- CreateTable
CREATE TABLE "datasets" (
    "id" UUID NOT NULL,
    "tenantId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "examples" INTEGER NOT NULL,
    "inputShape" INTEGER[],
    "numClasses" INTEGER NOT NULL,
    "classNames" TEXT[],
    "dtype" TEXT NOT NULL,
    "stats" JSONB NOT NULL,
    "options" JSONB NOT NULL,
    "uploadBytes" INTEGER NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "contentHash" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "datasets_tenantId_createdAt_idx" ON "datasets"("tenantId", "createdAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "datasets_tenantId_contentHash_key" ON "datasets"("tenantId", "contentHash");


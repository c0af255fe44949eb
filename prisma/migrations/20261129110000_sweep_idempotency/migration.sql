-- Idempotent sweep submission, as for jobs: the client's Idempotency-Key and a hash of the body it came with, unique per tenant.
-- AlterTable
ALTER TABLE "sweeps" ADD COLUMN     "idempotencyKey" TEXT,
ADD COLUMN     "requestHash" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "sweeps_tenantId_idempotencyKey_key" ON "sweeps"("tenantId", "idempotencyKey");

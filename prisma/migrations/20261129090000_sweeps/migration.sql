-- Hyperparameter sweeps: the sweep (its definition and state), its trials (parameters, early-stopping decisions), and jobs.sweepId for the trial jobs.
-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('running', 'succeeded', 'failed', 'cancelled');

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "sweepId" UUID;

-- CreateTable
CREATE TABLE "sweeps" (
    "id" UUID NOT NULL,
    "tenantId" TEXT NOT NULL,
    "name" TEXT,
    "status" "SweepStatus" NOT NULL DEFAULT 'running',
    "spec" JSONB NOT NULL,
    "queueName" TEXT NOT NULL,
    "maxTrials" INTEGER NOT NULL,
    "parallelism" INTEGER NOT NULL,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "sweeps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sweep_trials" (
    "id" BIGSERIAL NOT NULL,
    "sweepId" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "jobId" UUID NOT NULL,
    "params" JSONB NOT NULL,
    "decidedEpoch" INTEGER NOT NULL DEFAULT 0,
    "stopEpoch" INTEGER,
    "stopReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sweep_trials_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sweeps_tenantId_createdAt_idx" ON "sweeps"("tenantId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "sweeps_queueName_status_idx" ON "sweeps"("queueName", "status");

-- CreateIndex
CREATE UNIQUE INDEX "sweep_trials_jobId_key" ON "sweep_trials"("jobId");

-- CreateIndex
CREATE UNIQUE INDEX "sweep_trials_sweepId_index_key" ON "sweep_trials"("sweepId", "index");

-- CreateIndex
CREATE INDEX "jobs_sweepId_idx" ON "jobs"("sweepId");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "sweeps"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sweep_trials" ADD CONSTRAINT "sweep_trials_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "sweeps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sweep_trials" ADD CONSTRAINT "sweep_trials_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- AlterTable: the running mean loss and accuracy of the current epoch's batches, for live per-batch curves.
ALTER TABLE "jobs" ADD COLUMN     "batchLoss" DOUBLE PRECISION,
ADD COLUMN     "batchAccuracy" DOUBLE PRECISION;

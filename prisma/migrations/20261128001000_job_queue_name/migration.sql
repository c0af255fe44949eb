-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "queueName" TEXT NOT NULL DEFAULT 'trainyard-train';


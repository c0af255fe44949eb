-- AlterTable: the learning rate each epoch trained at (its last batch's during a warm-up), null for epochs recorded before it was kept.
ALTER TABLE "epoch_metrics" ADD COLUMN     "learningRate" DOUBLE PRECISION;

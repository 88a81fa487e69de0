/** The worker's storage ports ({@link dev.stagefarm.worker.store}) over the farm's S3 bucket. */
package dev.stagefarm.worker.s3;

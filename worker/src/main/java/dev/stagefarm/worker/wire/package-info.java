/** Maps the worker's domain records to and from the proto wire types of its edges (Kafka, S3 records). */
package dev.stagefarm.worker.wire;

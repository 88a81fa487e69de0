/** Extracted layers on local disk, by diff_id, as overlay lower dirs (LRU, size-bounded). */
package dev.stagefarm.worker.layers;

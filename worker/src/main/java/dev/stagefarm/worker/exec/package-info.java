/**
 * Executes a stage's instructions: one overlay upper dir per filesystem-changing instruction (it
 * becomes the layer and then the next lower dir), metadata instructions through the oci image model.
 */
package dev.stagefarm.worker.exec;

// Package bufpool recycles byte buffers by power-of-two size class, for
// the hot paths that read and compress messages: SmartScan's readers and
// the pack store's compressor.
package bufpool

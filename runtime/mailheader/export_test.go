package mailheader

// Exported for the external tests, which need runtime/scan (which imports
// this package).
var IndexBatch = indexBatch

const BatchSize = batchSize

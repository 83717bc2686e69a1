package api

// Version prefixes every API path.
const Version = "/v1"

// Headers of the API. A config response carries the ETag (quoted) and
// HeaderRevision; a config write names its client in HeaderClient. An
// export response carries HeaderOperation, HeaderExportAt and
// HeaderExportItems before the stream, and the summary (ExportSummary)
// as the HTTP trailer HeaderExportResult, sent only when the whole stream
// was written, so that a client can tell a complete export from a cut
// one.
const (
	HeaderRevision     = "Mailkeep-Revision"
	HeaderClient       = "Mailkeep-Client"
	HeaderOperation    = "Mailkeep-Operation"
	HeaderExportAt     = "Mailkeep-Export-At"
	HeaderExportItems  = "Mailkeep-Export-Messages"
	HeaderExportResult = "Mailkeep-Export-Result"
)

package api

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
	// Operation is set when a start was refused because one is running:
	// the operation that stands in its way.
	Operation *Operation `json:"operation,omitempty"`
}

package api

// VerifyReport is the outcome of a repository check: the result of a
// KindVerify operation.
type VerifyReport struct {
	Deep     bool      `json:"deep"`
	Packs    int       `json:"packs"`
	Records  int64     `json:"records"`
	Blobs    int64     `json:"blobs"`
	Items    int64     `json:"items"`
	Problems []Problem `json:"problems"`
	// Leftovers are harmless remains of an interrupted write: a torn tail
	// or records no catalog entry refers to.
	Leftovers []string `json:"leftovers,omitempty"`
}

// Problem is one defect a verify found. Nothing is repaired.
type Problem struct {
	// Kind is "catalog", "pack", "blob", "item", "folder", "account" or
	// "history".
	Kind   string `json:"kind"`
	Where  string `json:"where"`
	Detail string `json:"detail"`
}

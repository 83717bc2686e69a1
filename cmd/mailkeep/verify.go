package main

import (
	"fmt"
	"io"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

func runVerify(c *cli, args []string) int {
	fs := c.newFlags("verify", "[-deep] [-json] TARGET",
		"Checks the agent's repository: every catalog reference resolves to an intact blob,\nno pack is half-written, every history is well formed. -deep decompresses and\nre-hashes every blob. Problems are listed, never repaired.")
	deep := fs.Bool("deep", false, "decompress and re-hash every blob")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cl, code, ok := c.opCommand(fs, "verify", args)
	if !ok {
		return code
	}
	return c.runOperation(cl, opRun{cmd: "verify", req: api.OperationRequest{Type: api.KindVerify, Deep: *deep},
		wait: true, asJSON: *asJSON, render: renderVerify})
}

func renderVerify(w io.Writer, op *api.Operation) {
	var rep api.VerifyReport
	if !api.DecodeResult(op, &rep) {
		return
	}
	mode := "quick"
	if rep.Deep {
		mode = "deep"
	}
	fmt.Fprintf(w, "Verified (%s) %d packs, %d records, %d blobs, %d item versions: %d problems.\n",
		mode, rep.Packs, rep.Records, rep.Blobs, rep.Items, len(rep.Problems))
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s %s: %s\n", p.Kind, p.Where, p.Detail)
	}
	for _, l := range rep.Leftovers {
		fmt.Fprintf(w, "  note: %s\n", l)
	}
}

package main

import "fmt"

// runFmt is a placeholder until the fmt command lands.
func runFmt(c *cli, args []string) int {
	fmt.Fprintln(c.stderr, "mailkeep fmt: not implemented yet")
	return exitError
}

package main

import "fmt"

func runConfig(c *cli, args []string) int {
	fmt.Fprintln(c.stderr, "mailkeep config: not implemented yet")
	return exitError
}

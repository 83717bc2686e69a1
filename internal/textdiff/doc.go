// Package textdiff renders the difference between two texts as a unified
// diff, the format of `diff -u`, `git diff` and `gofmt -d`, which `patch`
// and `git apply` accept.
//
// The line diff itself comes from github.com/sergi/go-diff's
// diffmatchpatch, run on lines rather than characters and without a time
// limit, so that the output depends only on the inputs. This package groups
// the changed lines into hunks with the requested number of context lines
// and writes the headers.
//
// Lines are split after each '\n'. A last line without one is marked with
// `\ No newline at end of file`, as diff does, so adding or removing the
// final newline shows as a change. Hunk headers always carry both counts
// (`@@ -l,n +l,n @@`); an empty range is numbered by the line before it,
// 0 at the start of the file.
package textdiff

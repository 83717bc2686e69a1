// Package backendtest is the contract every pack.Backend keeps, as a test
// suite in the spirit of testing/fstest.TestFS: Run(t, newBackend) checks
// saving, replacing, loading ranges (short reads, offsets at and past the
// end, length 0 meaning up to the end), Stat, List, removal of what is
// listed, missing objects (errors matching fs.ErrNotExist), sizes that do
// not match, hostile names (refused with pack.ErrInvalidName, never
// escaping), parallel saves and loads, and, when the backend has them, the
// ReaderAt and Appender capabilities. A new backend (S3, a cache in front
// of one) is done when it passes Run.
package backendtest

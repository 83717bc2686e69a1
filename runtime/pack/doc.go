// Package pack is the blob store of the backup repository: blobs (message
// contents, identified by the SHA-256 of their raw bytes) compressed with
// zstd and appended to large pack files. It only stores and reads bytes;
// the catalog records which blob lives where (a Location) and decides what
// is deduplicated, referenced or garbage.
//
// # Layers
//
// A Store is the pack format: records, compression, checks, rotation and
// the durability rules below. It does no I/O of its own: the packs are the
// objects of a Backend (save, load a range, stat, list, remove, by name;
// backend.go), with two optional capabilities, ReaderAt (pread-like reads
// for the hot read path) and Appender (writing a pack in place with an
// fsync). Local keeps packs as files and has both (Open uses it); Memory
// keeps them in memory, for fast tests. A backend that cannot append (an
// object store) needs only Backend: the Store then keeps the pack being
// written in memory and saves all of it so far on each Sync. Package
// backendtest is the contract every backend passes; package faultbackend
// wraps one to inject I/O errors.
//
// # Writing
//
// A Store appends to pack files of its own: each Open session starts a new
// pack (numbered after the highest existing one, created on the first Put)
// and never appends to a pack written earlier, so every pack of an earlier
// process is immutable. Put compresses outside the lock (one shared
// encoder, concurrency-safe) and appends the record under it, through a
// 1 MiB buffer; it starts a new pack when the next record would take the
// pack past Options.MaxPackSize (default 64 MiB; a larger record goes alone
// in a pack). Sync writes the buffer out and fsyncs every pack written
// since the last Sync, then the directories that gained entries: the
// catalog commits only after Sync returns nil, so data is durable before
// the catalog points at it. A write or fsync error is sticky: the Store
// takes no more Puts and Sync keeps failing, so that nothing is committed
// on top of lost data.
//
// # Reading and checking
//
// Read (and AppendBlob, which also checks the expected id and reuses the
// caller's buffer) preads one record, checks its CRC, decompresses it and
// verifies the SHA-256 of the result against the id in the record header.
// Check walks a whole pack and reports, precisely, every damaged record
// (after damage that breaks the framing it resumes at the next intact
// record, found by scanning for a record magic whose record has a good
// CRC, so that every intact record is still listed). Every error about
// damage is a *CorruptError naming the pack file and the offset.
//
// # Files
//
// Pack id is the object <id>.pack (PackName), <id> being the id in 8
// lower-case hex digits; pack ids start at 1. The Local backend keeps a
// repository's packs in <backup_path>/packs/<xx>/<id>.pack, <xx> being
// the last two digits (pack 0x0000012a is packs/2a/0000012a.pack), so
// that sequentially numbered packs spread over 256 directories.
// Directories are created 0700 and files 0600: they hold mail.
//
// # Format, version 1
//
// All integers are little-endian. CRC32C is CRC-32 with the Castagnoli
// polynomial (hash/crc32.Castagnoli, as in iSCSI, ext4 and Btrfs).
//
// File header, 16 bytes:
//
//	offset size  field
//	0      6     magic "MKPACK"
//	6      2     format version (1)
//	8      4     pack id (must match the file name)
//	12     4     CRC32C of bytes 0..11
//
// Then records, back to back, until the end of the file. A record:
//
//	offset size  field
//	0      4     record magic "MKRC"
//	4      32    blob id: SHA-256 of the raw blob
//	36     4     raw size (bytes, at most 1 GiB)
//	40     4     stored size n: payload bytes
//	44     1     compression: 0 none (payload is the raw blob), 1 zstd
//	45     3     reserved, zero
//	48     n     payload
//	48+n   4     CRC32C of bytes 0..47+n (header and payload)
//
// A record is 52+n bytes; Location.Offset is the offset of its magic and
// Location.Length its whole length 52+n; Location.Size is the raw size. A
// zstd payload is one zstd frame (no zstd checksum: the CRC32C and the
// SHA-256 cover it) whose content size is the raw size. A blob is stored
// uncompressed when zstd does not save at least 1/32 of it (random data,
// already compressed files), so that reads of it cost a copy only. The CRC
// detects torn and flipped bytes without decompressing; the SHA-256
// detects everything else, at the cost of decompressing (Read, deep Check).
//
// # Crashes and torn tails
//
// After a crash, the pack being written may end with an incomplete record,
// zero bytes (a file extended by the kernel but whose data never reached
// the disk), or a last record whose CRC does not match. Check reports such
// damage as a CorruptError with Torn set (errors.Is(err, ErrTorn)) at the
// offset of the first bad record. When a record's length seems to run past
// the end of the file but an intact record follows, the length was damaged
// in place: that is corruption, not a torn tail. Only records the catalog
// never committed can be in a torn tail, because the catalog commits after
// Sync. A torn tail is left in place: it is harmless (verify lists it as a
// leftover) and a new session never appends to an old pack.
//
// # Performance
//
// Measured with BenchmarkCompress, BenchmarkPut and BenchmarkRead on
// generated mail (see bench_test.go and mail_test.go; the numbers and the
// choice of DefaultLevel are in the comment on DefaultLevel). Encoders and
// decoders are shared and concurrency-safe, buffers are pooled by size
// class, a Put copies the blob once (into the write buffer) and a Read
// allocates only its result (none with AppendBlob and a reused buffer).
package pack

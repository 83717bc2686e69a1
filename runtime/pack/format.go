package pack

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// Format constants. doc.go describes the layout byte by byte.
const (
	// FormatVersion is the pack file format version written in every file
	// header. A reader refuses any other version.
	FormatVersion = 1

	// FileHeaderSize is the length of the file header: magic (6), format
	// version (2), pack id (4), CRC32C of the first 12 bytes (4).
	FileHeaderSize = 16

	// RecordHeaderSize is the length of a record header: magic (4), blob
	// id (32), raw size (4), stored size (4), compression (1), reserved (3).
	RecordHeaderSize = 48

	// RecordTrailerSize is the length of the CRC32C that ends a record.
	RecordTrailerSize = 4

	// RecordOverhead is the bytes a record adds to its payload.
	RecordOverhead = RecordHeaderSize + RecordTrailerSize

	// MaxBlobSize is the largest raw blob Put accepts, and the largest raw
	// or stored size a reader believes in a record header.
	MaxBlobSize = 1 << 30

	// DefaultMaxPackSize is the pack size at which Put rotates to a new pack
	// file when Options.MaxPackSize is zero.
	DefaultMaxPackSize = 64 << 20

	// MinMaxPackSize is the smallest Options.MaxPackSize accepted.
	MinMaxPackSize = 4 << 10
)

// Compression methods, the byte at offset 44 of a record header.
const (
	CompressionNone byte = 0 // payload is the raw blob
	CompressionZstd byte = 1 // payload is one zstd frame of the raw blob
)

const (
	fileMagic   = "MKPACK"
	recordMagic = "MKRC"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ID identifies a blob: the SHA-256 of its raw (uncompressed) bytes.
type ID [32]byte

// Hash returns the ID of raw.
func Hash(raw []byte) ID { return sha256.Sum256(raw) }

// String returns the ID in lower-case hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses the 64 hex digits written by ID.String.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("blob id %q: want %d hex digits, got %d", s, 2*len(id), len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("blob id %q: %v", s, err)
	}
	return id, nil
}

// Location is where Put stored a blob. The catalog keeps it; Read needs it.
type Location struct {
	Pack   uint32 // pack file id
	Offset int64  // offset of the record in the pack file
	Length uint32 // length of the whole record: header, payload and CRC
	Size   uint32 // raw (uncompressed) length of the blob
}

func (l Location) String() string {
	return fmt.Sprintf("pack %08x offset %d length %d size %d", l.Pack, l.Offset, l.Length, l.Size)
}

// PackInfo describes one pack file.
type PackInfo struct {
	ID   uint32
	Path string
	Size int64 // bytes; for the pack this Store is writing, including buffered bytes
}

// parsePackName returns the id of a file named <8 hex>.pack.
func parsePackName(name string) (uint32, bool) {
	if len(name) != 13 || name[8:] != ".pack" {
		return 0, false
	}
	for _, c := range name[:8] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(name[:8], 16, 32)
	return uint32(v), err == nil
}

func appendFileHeader(b []byte, pack uint32) []byte {
	b = append(b, fileMagic...)
	b = binary.LittleEndian.AppendUint16(b, FormatVersion)
	b = binary.LittleEndian.AppendUint32(b, pack)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[len(b)-12:], castagnoli))
}

// checkFileHeader validates a file header read from the pack with the given id.
func checkFileHeader(h []byte, pack uint32) string {
	switch {
	case string(h[:6]) != fileMagic:
		return "not a mailkeep pack file (bad file magic)"
	case crc32.Checksum(h[:12], castagnoli) != binary.LittleEndian.Uint32(h[12:16]):
		return "file header CRC mismatch"
	case binary.LittleEndian.Uint16(h[6:8]) != FormatVersion:
		return fmt.Sprintf("unsupported pack format version %d (this mailkeep reads version %d)",
			binary.LittleEndian.Uint16(h[6:8]), FormatVersion)
	case binary.LittleEndian.Uint32(h[8:12]) != pack:
		return fmt.Sprintf("file header names pack %08x, not %08x", binary.LittleEndian.Uint32(h[8:12]), pack)
	}
	return ""
}

// recordHeader is the decoded form of the 48-byte record header.
type recordHeader struct {
	id     ID
	raw    uint32
	stored uint32
	comp   byte
}

func putRecordHeader(b []byte, h recordHeader) {
	_ = b[RecordHeaderSize-1]
	copy(b[0:4], recordMagic)
	copy(b[4:36], h.id[:])
	binary.LittleEndian.PutUint32(b[36:40], h.raw)
	binary.LittleEndian.PutUint32(b[40:44], h.stored)
	b[44] = h.comp
	b[45], b[46], b[47] = 0, 0, 0
}

// parseRecordHeader decodes and sanity-checks a record header. It does not
// check the CRC, which covers the payload too. The string is the reason
// when the header is not believable.
func parseRecordHeader(b []byte) (recordHeader, string) {
	var h recordHeader
	if string(b[0:4]) != recordMagic {
		return h, "bad record magic"
	}
	copy(h.id[:], b[4:36])
	h.raw = binary.LittleEndian.Uint32(b[36:40])
	h.stored = binary.LittleEndian.Uint32(b[40:44])
	h.comp = b[44]
	switch {
	case b[45] != 0 || b[46] != 0 || b[47] != 0:
		return h, "reserved record header bytes are not zero"
	case h.raw > MaxBlobSize:
		return h, fmt.Sprintf("raw size %d exceeds the maximum blob size %d", h.raw, MaxBlobSize)
	case h.stored > MaxBlobSize:
		return h, fmt.Sprintf("stored size %d exceeds the maximum blob size %d", h.stored, MaxBlobSize)
	case h.comp == CompressionNone && h.stored != h.raw:
		return h, fmt.Sprintf("uncompressed record with stored size %d != raw size %d", h.stored, h.raw)
	case h.comp != CompressionNone && h.comp != CompressionZstd:
		return h, fmt.Sprintf("unknown compression method %d", h.comp)
	}
	return h, ""
}

// Errors. Every damaged or inconsistent record is reported as a
// *CorruptError, which matches ErrCorrupt with errors.Is, and also ErrTorn
// when the damage reaches the end of the pack file.
var (
	ErrClosed       = errors.New("pack store is closed")
	ErrCorrupt      = errors.New("corrupt pack data")
	ErrTorn         = errors.New("torn pack tail")
	ErrHashMismatch = errors.New("blob hash mismatch")
)

// CorruptError reports a damaged or inconsistent record, naming the pack
// file and the offset of the record (or of the damage).
type CorruptError struct {
	Pack   uint32
	Path   string
	Offset int64
	// Torn is set when the damage runs to the end of the file, as an
	// append interrupted by a crash leaves it: an incomplete or zero-filled
	// record, or a last record whose CRC does not match.
	Torn   bool
	Reason string
	Err    error // underlying error, if any (ErrHashMismatch, a zstd error, ...)
}

func (e *CorruptError) Error() string {
	kind := "corrupt record"
	if e.Torn {
		kind = "torn tail"
	}
	msg := fmt.Sprintf("%s: %s at offset %d: %s", e.Path, kind, e.Offset, e.Reason)
	if e.Err != nil && e.Err != ErrHashMismatch {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *CorruptError) Unwrap() error { return e.Err }

func (e *CorruptError) Is(target error) bool {
	return target == ErrCorrupt || (e.Torn && target == ErrTorn)
}

package transport

import (
	"fmt"
	"time"

	"github.com/bgsync/bgsync/change"
)

// Record is one decoded message: a row change with the header of the source
// transaction it belongs to.
type Record struct {
	TxnID      uint64
	Position   change.Position
	CommitTime time.Time // microsecond precision, UTC
	Origin     string
	// TxnSize is the number of changes (messages) in the transaction; the
	// change's Seq is below it.
	TxnSize uint32
	Change  change.Change
}

// Codec turns row changes into Kafka message keys and values and back. The
// producer and the consumer of one topic must use the same codec.
//
// Only the binary envelope exists today; a Debezium-compatible JSON envelope
// is the planned second implementation, which is why decoding sees the key
// too.
type Codec interface {
	// Name is the codec's configuration name.
	Name() string
	// AppendKey appends the message key of c: table identity and key values.
	AppendKey(dst []byte, c *change.Change) []byte
	// AppendValue appends the message value of t.Changes[i].
	AppendValue(dst []byte, t *change.Txn, i int) []byte
	// NewDecoder returns a decoder for one stream of messages. A decoder
	// may share read-only data (column lists) between the records it returns
	// and is not safe for concurrent use.
	NewDecoder() Decoder
}

// Decoder decodes message values into Records.
type Decoder interface {
	// Decode never panics; any input it cannot decode is an error.
	Decode(key, value []byte) (Record, error)
}

// BinaryCodecName names the binary envelope codec (the default).
const BinaryCodecName = "binary"

// Binary is the binary envelope codec: see EncodeRecord.
var Binary Codec = binaryCodec{}

// CodecByName returns the codec configured by name; "" means Binary.
func CodecByName(name string) (Codec, error) {
	switch name {
	case "", BinaryCodecName:
		return Binary, nil
	}
	return nil, fmt.Errorf("transport: codec %q not supported (supported: %q)", name, BinaryCodecName)
}

type binaryCodec struct{}

func (binaryCodec) Name() string { return BinaryCodecName }

func (binaryCodec) AppendKey(dst []byte, c *change.Change) []byte { return AppendKey(dst, c) }

func (binaryCodec) AppendValue(dst []byte, t *change.Txn, i int) []byte {
	return EncodeRecord(dst, t, i)
}

func (binaryCodec) NewDecoder() Decoder { return new(binaryDecoder) }

type binaryDecoder struct{ d RecordDecoder }

func (b *binaryDecoder) Decode(_, value []byte) (Record, error) { return b.d.Decode(value) }

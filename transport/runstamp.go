package transport

import (
	"encoding/binary"

	"github.com/segmentio/kafka-go"
)

// RunHeader is the message header carrying a producer run's stamp: the run
// id and the message's sequence number in the run, 8 bytes each, big endian.
const RunHeader = "bgsync-run"

const runStampLen = 16

func appendRunStamp(dst []byte, run, seq uint64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, run)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// runStamp reads the stamp from a message's headers.
func runStamp(hs []kafka.Header) (run, seq uint64, ok bool) {
	for _, h := range hs {
		if h.Key == RunHeader && len(h.Value) == runStampLen {
			return binary.BigEndian.Uint64(h.Value), binary.BigEndian.Uint64(h.Value[8:]), true
		}
	}
	return 0, 0, false
}

package transport

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
)

const killChildEnv = "BGSYNC_TRANSPORT_KILL_CHILD_DIR"

// TestEmbeddedSurvivesKill runs a broker in a child process, produces
// there, kills the child with SIGKILL once the writes are acknowledged, and
// reads every message back from a broker restarted on the same directory.
func TestEmbeddedSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	acked := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "ACKED "); ok {
				acked <- line
			}
		}
		close(acked)
	}()
	var topic string
	select {
	case topic = <-acked:
	case <-time.After(60 * time.Second):
		t.Fatal("child did not report acknowledged writes")
	}
	if topic == "" {
		t.Fatal("child exited without acknowledging")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	e := startBroker(t, dir)
	want := killTxns()
	got := readFrom(t, e.Addrs(), topic, 0, len(want))
	for i := range want {
		if diff := diffTxn(want[i], got[i]); diff != "" {
			t.Fatalf("transaction %d after kill -9 (-want +got):\n%s", i, diff)
		}
	}
}

func killTxns() []*change.Txn {
	return []*change.Txn{makeTxn(1, 10, 10), makeTxn(2, 20, 20000), makeTxn(3, 30, 5)}
}

// TestKillChild is the child of TestEmbeddedSurvivesKill.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("only run as a child of TestEmbeddedSurvivesKill")
	}
	e, err := StartEmbedded(EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	topic := "bgsync.blue"
	if err := EnsureTopic(ctx, e.Addrs(), topic, 1); err != nil {
		t.Fatal(err)
	}
	p, err := NewProducer(ProducerConfig{Brokers: e.Addrs(), Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteTxns(ctx, killTxns()); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ACKED %s\n", topic)
	select {} // wait for SIGKILL
}

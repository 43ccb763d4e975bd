package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

const rootHelp = `bgsync keeps the blue and green databases of a blue-green deployment in
sync through Kafka, and measures whether cutover or rollback is safe.

Typical use:
  bgsync setup --config bgsync.yaml      check prerequisites, create slot and publication
  bgsync run   --config bgsync.yaml      stream changes until SIGTERM
  bgsync teardown --config bgsync.yaml   remove what setup created (never user data)

Exit codes:
  0  ok
  1  a check failed, or the sync failed at run time
  2  usage, config or setup error (prerequisites, connection, credentials)
  3  could not measure

Environment overrides (applied over the file): BGSYNC_BLUE_DSN, BGSYNC_GREEN_DSN,
BGSYNC_KAFKA_BROKERS, BGSYNC_LOG_LEVEL, BGSYNC_HTTP_LISTEN, BGSYNC_STATE_DIR,
BGSYNC_DIRECTIONS.`

type globalFlags struct {
	config string
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "bgsync",
		Short:         "Bidirectional blue-green database sync through Kafka",
		Long:          rootHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVarP(&g.config, "config", "c", "bgsync.yaml", "config file (YAML)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	root.AddCommand(newSetupCmd(g), newRunCmd(g), newSnapshotCmd(g), newTeardownCmd(g), newVerifyCmd(g), newGateCmd(g), newStatusCmd(g), newConflictsCmd(g), newCheckTransformsCmd(g), newVersionCmd())
	return root
}

func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code := codeOf(err)
	if cmd == nil || cmd == root { // unknown command or bad root usage
		code = exitUsage
	}
	fmt.Fprintf(stderr, "bgsync: %s\n", scrubAll(err.Error()))
	return code
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	return withCode(exitUsage, cobra.NoArgs(cmd, args))
}

// Command bgsync keeps the blue and green databases of a blue-green
// deployment in sync through Kafka. See `bgsync --help`.
package main

import "os"

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

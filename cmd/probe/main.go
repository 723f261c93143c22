// Command probe attacks a running Config Market server the way graphql-cop
// does and exits 1 on any finding:
//
//	go run ./cmd/probe -url http://localhost:8080/graphql
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"configmarket/internal/probe"
)

func main() {
	endpoint := flag.String("url", "http://localhost:8080/graphql", "GraphQL endpoint")
	origin := flag.String("origin", "https://evil.example", "a browser origin the server must refuse")
	bodyLimit := flag.Int("body-limit", 1<<20, "the server's MAX_BODY_BYTES")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := &probe.Prober{Endpoint: *endpoint, ForeignOrigin: *origin, BodyLimit: *bodyLimit}
	findings, err := p.Run(ctx)
	for _, f := range findings {
		fmt.Println("FINDING", f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
	fmt.Println("probe: no findings")
}

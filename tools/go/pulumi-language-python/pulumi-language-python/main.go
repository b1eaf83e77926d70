// Command pulumi-language-python is floe-infra's build of the Pulumi Python language host: the plugin
// the Pulumi CLI starts to run Python programs, CrossGuard policy packs and Python plugins, and to list
// a program's packages.
//
// Upstream's host is a Go module of its own (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// that the Go module proxy refuses at every version; the libraries it is made of are served. This host
// serves the LanguageRuntime RPCs the CLI calls when it runs a program over those libraries at the CLI's
// own release (sdk/v3: the RPC protocol, python/toolchain for virtualenvs, pip, poetry and uv, the policy
// pack proxy), and it runs the Python side the CLI distribution ships with that release
// (`pulumi-language-python-exec`, installed next to this binary). What it leaves out (code generation,
// `pulumi new` prompts and templates, packing and linking SDKs, debuggers) answers Unimplemented; see
// docs/testing.md.
//
// Usage (by the CLI): pulumi-language-python [-version] ENGINE_ADDRESS
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// The Python script that runs a program in its interpreter, shipped next to the host.
const executorName = "pulumi-language-python-exec"

// How long the host outlives an engine that stopped answering health checks.
const engineHealthTimeout = 5 * time.Minute

func main() {
	showVersion := flag.Bool("version", false, "print the host's version and exit")
	// Older CLIs pass a tracing endpoint; this host does not trace.
	flag.String("tracing", "", "ignored")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	logging.InitLogging(false, 0, false)

	self, err := os.Executable()
	if err != nil {
		cmdutil.Exit(fmt.Errorf("locating the host's executable: %w", err))
	}
	executor := filepath.Join(filepath.Dir(self), executorName)
	if _, err := os.Stat(executor); err != nil {
		cmdutil.Exit(fmt.Errorf("%s must be installed next to the language host: %w", executorName, err))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	host := newHost(executor, flag.Arg(0))
	if host.engineAddress != "" {
		// Exit when the engine goes away, however it ends.
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, engineHealthTimeout, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("watching the engine: %w", err))
		}
	}

	shutdown := make(chan bool)
	go func() {
		<-ctx.Done()
		close(shutdown)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: shutdown,
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, host)
			return nil
		},
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the language host's RPC server: %w", err))
	}
	// The CLI reads the port from the first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("the language host's RPC server stopped: %w", err))
	}
}

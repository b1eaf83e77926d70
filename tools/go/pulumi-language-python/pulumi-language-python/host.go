package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The exit status with which pulumi-language-python-exec says it already showed the user what went wrong.
const exitAfterUserMessage = 32

// How long a cancelled program has between the interrupt and the kill.
const interruptGrace = 5 * time.Second

// host serves the LanguageRuntime service. Methods it does not define (code generation, `pulumi new`
// prompts and templates, Pack, Link) answer Unimplemented through the embedded type.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor      string
	engineAddress string
	// Done when the engine calls Cancel: programs and plugins started since are interrupted.
	cancelled context.Context
	cancel    context.CancelFunc
}

func newHost(executor, engineAddress string) *host {
	cancelled, cancel := context.WithCancel(context.Background())
	return &host{executor: executor, engineAddress: engineAddress, cancelled: cancelled, cancel: cancel}
}

// pythonOptions reads the project's `runtime.options` (virtualenv, toolchain, typechecker). Plugins
// (not policy packs) default to a `venv` virtualenv next to them, as upstream's host does, since a
// plugin never runs in the ambient interpreter.
func pythonOptions(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.PythonOptions, error) {
	if info == nil {
		return toolchain.PythonOptions{}, errors.New("the engine sent no program information")
	}
	opts := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	raw := info.GetOptions().AsMap()
	text := func(key string) (string, error) {
		value, ok := raw[key]
		if !ok {
			return "", nil
		}
		if s, ok := value.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("runtime option %q must be a string, not %v", key, value)
	}
	var err error
	if opts.Virtualenv, err = text("virtualenv"); err != nil {
		return opts, err
	}
	switch name, err := text("toolchain"); {
	case err != nil:
		return opts, err
	case name == "":
		opts.Toolchain = toolchain.Auto
	case name == "pip":
		opts.Toolchain = toolchain.Pip
	case name == "poetry":
		opts.Toolchain = toolchain.Poetry
	case name == "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return opts, fmt.Errorf("runtime option toolchain: %q is not one of pip, poetry, uv", name)
	}
	switch name, err := text("typechecker"); {
	case err != nil:
		return opts, err
	case name == "":
		opts.Typechecker = toolchain.TypeCheckerNone
	case name == "mypy":
		opts.Typechecker = toolchain.TypeCheckerMypy
	case name == "pyright":
		opts.Typechecker = toolchain.TypeCheckerPyright
	default:
		return opts, fmt.Errorf("runtime option typechecker: %q is not one of mypy, pyright", name)
	}
	if plugin && opts.Virtualenv == "" && (opts.Toolchain == toolchain.Auto || opts.Toolchain == toolchain.Pip) {
		opts.Virtualenv = "venv"
	}
	return opts, nil
}

func resolve(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.PythonOptions, toolchain.Toolchain, error) {
	opts, err := pythonOptions(info, plugin)
	if err != nil {
		return opts, nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return opts, tc, err
}

// withEnv is the command's environment (the activated virtualenv's, or the host's) plus `extra`.
func withEnv(cmd *exec.Cmd, extra ...string) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, extra...)
}

// interruptible makes a command end with an interrupt (then a kill) when its context ends.
func interruptible(cmd *exec.Cmd) {
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = interruptGrace
}

func exitStatus(err error) (int, bool) {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok {
			return ws.ExitStatus(), true
		}
	}
	return 0, false
}

func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	// Only when the CLI attaches to a running host (PULUMI_DEBUG_LANGUAGES); a started host got the
	// address as its argument.
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

// Run runs the program through pulumi-language-python-exec in the project's interpreter; the program's
// output goes to the host's, which the CLI shows.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "this language host (floe-infra's build) cannot attach a debugger"}, nil
	}
	opts, tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	if err := typecheck(ctx, tc, opts); err != nil {
		return nil, err
	}
	values := req.GetConfig()
	if values == nil {
		values = map[string]string{}
	}
	config, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("serializing the stack's configuration: %w", err)
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, fmt.Errorf("serializing the stack's secret configuration keys: %w", err)
	}

	// Ends with the request, or when the engine cancels.
	runCtx, stop := context.WithCancel(h.cancelled)
	defer stop()
	context.AfterFunc(ctx, stop)
	cmd, err := tc.Command(runCtx, append([]string{h.executor}, h.executorArguments(req)...)...)
	if err != nil {
		return nil, err
	}
	interruptible(cmd)
	withEnv(cmd, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	err = cmd.Run()
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	// Python does not flush its streams when it fails early: make sure the CLI sees all it wrote.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	code, exited := exitStatus(err)
	switch {
	case exited && code == exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case exited:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", h.executor, err)}, nil
	}
}

// executorArguments are pulumi-language-python-exec's flags, then the entry point and the program's arguments.
func (h *host) executorArguments(req *pulumirpc.RunRequest) []string {
	var args []string
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("project", req.GetProject())
	// The program reads it back with pulumi.get_root_directory(): the directory of Pulumi.yaml.
	flag("root_directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("dry_run", strconv.FormatBool(req.GetDryRun()))
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// typecheck runs the project's `typechecker` (mypy or pyright) over the program directory first.
func typecheck(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions) error {
	var module string
	switch opts.Typechecker {
	case toolchain.TypeCheckerMypy:
		module = "mypy"
	case toolchain.TypeCheckerPyright:
		module = "pyright"
	default:
		return nil
	}
	args := []string{opts.ProgramDir}
	if module == "mypy" {
		// mypy would check the virtualenv's packages too when it lives under the program.
		venv, err := tc.VirtualEnvPath(ctx)
		if err != nil {
			return err
		}
		if venv != "" {
			if rel, err := filepath.Rel(opts.ProgramDir, venv); err == nil {
				args = append([]string{"--exclude", rel}, args...)
			}
		}
	}
	cmd, err := tc.ModuleCommand(ctx, module, args...)
	if err != nil {
		return err
	}
	cmd.Dir = opts.ProgramDir
	var output bytes.Buffer
	cmd.Stdout = io.MultiWriter(os.Stdout, &output)
	cmd.Stderr = io.MultiWriter(os.Stderr, &output)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the typechecker %s failed (is it installed in the project's environment?): %w\n%s",
			module, err, output.String())
	}
	return nil
}

// InstallDependencies creates the virtualenv if needed and installs the project's requirements; a
// plugin that is a buildable package is installed into it as well.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	_, tc, err := resolve(req.GetInfo(), req.GetIsPlugin())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	ctx, dir := server.Context(), req.GetInfo().GetProgramDirectory()
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	if err := tc.InstallDependencies(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	if req.GetIsPlugin() {
		buildable, err := toolchain.IsBuildablePackage(dir)
		if err != nil {
			return err
		}
		if buildable {
			if err := tc.InstallPackage(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	_, tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	installed, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("listing the program's Python packages: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(installed))
	for _, dep := range installed {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: dep.Name, Version: dep.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	var err error
	if req.GetInfo() != nil {
		if opts, err = pythonOptions(req.GetInfo(), false); err != nil {
			return nil, err
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata: map[string]string{
			"toolchain":        toolchain.Name(opts.Toolchain),
			"toolchainVersion": info.ToolchainVersion.String(),
			"typechecker":      toolchain.TypeCheckerName(opts.Typechecker),
		},
	}, nil
}

// GetRequiredPlugins is the protocol's older form of GetRequiredPackages, which the CLI calls first.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "GetRequiredPlugins: use GetRequiredPackages")
}

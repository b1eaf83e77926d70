package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// RunPlugin runs a plugin written in Python: a CrossGuard policy pack (kind `analyzer`, run with
// `python -m pulumi.policy` in the pack's directory), or a resource or tool plugin (its `__main__.py`,
// or the package's entry point through `pulumi.run.plugin`). Its output and exit status are streamed back.
//
// A policy pack of pulumi-policy learns the stack it analyses from environment variables, while the engine
// sends that over RPC: the SDK's policy proxy answers the engine's first calls, then starts the pack with
// that environment and forwards everything else to it.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetAttachDebugger() {
		return errors.New("this language host (floe-infra's build) cannot attach a debugger")
	}
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	opts, tc, err := resolve(req.GetInfo(), !analyzer)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(server.Context())
	defer stop()
	context.AfterFunc(h.cancelled, stop)

	var cmd *exec.Cmd
	if analyzer {
		args := append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		cmd, err = tc.Command(ctx, append(args, opts.ProgramDir)...)
		if err == nil {
			// Packs have always run in their own directory.
			cmd.Dir = opts.ProgramDir
		}
	} else {
		cmd, err = pluginCommand(ctx, tc, opts.Root, req.GetArgs())
		if err == nil {
			cmd.Dir = req.GetPwd()
		}
	}
	if err != nil {
		return err
	}
	interruptible(cmd)

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	var proxy *sdk.PolicyProxy
	var packEnv []string
	if analyzer {
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("starting the policy pack proxy: %w", err)
		}
		config, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the stack the policy pack analyses: %w", err)
		}
		if packEnv, err = policyPackEnv(config); err != nil {
			return err
		}
	}
	withEnv(cmd, append(packEnv, req.GetEnv()...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	if err := cmd.Start(); err != nil {
		if proxy != nil {
			proxy.Abort(err)
		}
		return fmt.Errorf("starting the plugin: %w", err)
	}
	if proxy != nil {
		// Waits for the pack to exit, once it is attached.
		err = proxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if code, exited := exitStatus(err); exited {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{
			Exitcode: int32(code), //nolint:gosec // an exit status fits
		}})
	}
	if err != nil {
		return fmt.Errorf("running the plugin: %w", err)
	}
	return closer.Close()
}

// pluginCommand runs a plugin directory's `__main__.py`, or a buildable package (pyproject.toml) through
// the SDK's `pulumi.run.plugin` entry point.
func pluginCommand(ctx context.Context, tc toolchain.Toolchain, root string, args []string) (*exec.Cmd, error) {
	if _, err := os.Stat(filepath.Join(root, "__main__.py")); err == nil {
		return tc.Command(ctx, append([]string{root}, args...)...)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	buildable, err := toolchain.IsBuildablePackage(root)
	if err != nil {
		return nil, err
	}
	if !buildable {
		return nil, fmt.Errorf("%s holds neither a __main__.py nor a buildable pyproject.toml: nothing to run", root)
	}
	project, err := toolchain.LoadPyproject(root)
	if err != nil {
		return nil, err
	}
	if project.Project == nil || project.Project.Name == "" {
		return nil, fmt.Errorf("%s: pyproject.toml names no project", root)
	}
	return tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{project.Project.Name}, args...)...)
}

// policyPackEnv is what pulumi-policy reads the analysed stack from.
func policyPackEnv(config *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if config == nil {
		// `pulumi policy publish` and friends: no stack.
		return nil, nil
	}
	var env []string
	set := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	set("PULUMI_ORGANIZATION", config.GetOrganization())
	set("PULUMI_PROJECT", config.GetProject())
	set("PULUMI_STACK", config.GetStack())
	set("PULUMI_DRY_RUN", strconv.FormatBool(config.GetDryRun()))
	if config.GetConfig() != nil {
		encoded, err := json.Marshal(config.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("serializing the stack's configuration for the policy pack: %w", err)
		}
		set("PULUMI_CONFIG", string(encoded))
	}
	return env, nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// installedPackages prints every distribution of the interpreter with its version and the
// pulumi-plugin.json at the top of its package, if it ships one: one interpreter start for all of them.
const installedPackages = `
import importlib.metadata, json
seen, found = set(), []
for dist in importlib.metadata.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if not name or name in seen:
        continue
    seen.add(name)
    plugin = None
    for file in dist.files or ():
        if file.name == "pulumi-plugin.json" and len(file.parts) == 2:
            try:
                plugin = json.loads(file.read_text())
            except (OSError, ValueError):
                pass
            break
    found.append({"name": name, "version": dist.version, "plugin": plugin})
print(json.dumps(found))
`

// Packages named pulumi-* that have no plugin.
var withoutPlugin = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

type installedPackage struct {
	Name    string                   `json:"name"`
	Version string                   `json:"version"`
	Plugin  *plugin.PulumiPluginJSON `json:"plugin"`
}

// GetRequiredPackages lists the resource plugins the program's Pulumi packages need: each installed
// package that ships a pulumi-plugin.json, or whose name starts with `pulumi-`. The virtualenv is created
// first if it does not exist yet.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	_, tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.EnsureVenv(ctx, req.GetInfo().GetProgramDirectory(), false, false, nil, nil); err != nil {
		return nil, err
	}
	installed, err := listInstalled(ctx, tc)
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	for _, pkg := range installed {
		if dep := packageDependency(pkg); dep != nil {
			packages = append(packages, dep)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func listInstalled(ctx context.Context, tc toolchain.Toolchain) ([]installedPackage, error) {
	cmd, err := tc.Command(ctx, "-c", installedPackages)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the program's Python packages: %w", err)
	}
	var installed []installedPackage
	if err := json.Unmarshal(out, &installed); err != nil {
		return nil, fmt.Errorf("reading the program's Python packages: %w", err)
	}
	return installed, nil
}

// packageDependency is the plugin a package needs, or nil: not a Pulumi package, a package that says it
// has no plugin (`"resource": false`), or one whose plugin version cannot be told from its own.
func packageDependency(pkg installedPackage) *pulumirpc.PackageDependency {
	meta := pkg.Plugin
	if meta == nil {
		if !strings.HasPrefix(pkg.Name, "pulumi-") || withoutPlugin[pkg.Name] {
			return nil
		}
		meta = &plugin.PulumiPluginJSON{Resource: true}
	}
	if !meta.Resource {
		return nil
	}
	dep := &pulumirpc.PackageDependency{
		Name: meta.Name, Version: meta.Version, Server: meta.Server, Kind: "resource",
		Parameterization: parameterization(meta.Parameterization),
		Extension:        parameterization(meta.ExtensionParameterization),
	}
	if dep.Name == "" {
		dep.Name = strings.TrimPrefix(pkg.Name, "pulumi-")
	}
	if dep.Version == "" {
		version, err := pluginVersion(pkg.Version)
		if err != nil {
			logging.V(5).Infof("GetRequiredPackages: skipping %s: %v", pkg.Name, err)
			return nil
		}
		dep.Version = version
	}
	if !strings.HasPrefix(dep.Version, "v") {
		dep.Version = "v" + dep.Version
	}
	return dep
}

func parameterization(p *plugin.PulumiParameterizationJSON) *pulumirpc.PackageParameterization {
	if p == nil {
		return nil
	}
	return &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
}

// A PEP 440 version this host can translate: release segments, an optional a/b/rc pre-release, then
// optional .postN and .devN.
var pep440 = regexp.MustCompile(`^(\d+(?:\.\d+){0,2})(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$`)

// pluginVersion translates a package version into the semantic version of its plugin: `1.2` is 1.2.0,
// `1.2.3a4` is 1.2.3-alpha.4, `1.2.3rc1` is 1.2.3-rc.1, `1.2.3.post4.dev5` is 1.2.3+post4dev5. Epochs
// and local versions are refused.
func pluginVersion(v string) (string, error) {
	m := pep440.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("cannot translate the package version %q into a plugin version", v)
	}
	segments := strings.Split(m[1], ".")
	for len(segments) < 3 {
		segments = append(segments, "0")
	}
	out := strings.Join(segments, ".")
	if m[2] != "" {
		out += "-" + map[string]string{"a": "alpha", "b": "beta", "rc": "rc"}[m[2]] + "." + m[3]
	}
	var build string
	if m[4] != "" {
		build += "post" + m[4]
	}
	if m[5] != "" {
		build += "dev" + m[5]
	}
	if build != "" {
		out += "+" + build
	}
	return out, nil
}

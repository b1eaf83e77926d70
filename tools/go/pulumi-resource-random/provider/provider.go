// Package provider maps terraform-provider-random onto Pulumi's `random` package, as the
// pulumi-random Python SDK expects it: every `random_<name>` resource becomes
// `random:index/random<Name>:Random<Name>`, with the property names the bridge derives from the
// Terraform schema.
//
// floe-infra builds this because the Go module proxy refuses github.com/pulumi/pulumi-random/provider/v4
// at every version; the bridge and the Terraform provider it wraps are served (tools/toolchain.py).
package provider

import (
	"context"
	_ "embed" // the bridge metadata tfgen writes beside this file
	"errors"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is stamped by the linker (-X): the bridge refuses to start without a semantic version.
var Version string

const (
	pkg    = "random"
	module = "index"
)

// Written by `pulumi-tfgen-random schema` (tools/toolchain.py starts it from an empty object).
//
//go:embed bridge-metadata.json
var metadata []byte

// Provider is the bridge's description of the random package.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         pkg,
		Version:      Version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		Keywords:     []string{"pulumi", "random"},
		License:      "Apache-2.0",
		Homepage:     "https://pulumi.io",
		Repository:   "https://github.com/pulumi/pulumi-random",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			// Terraform's random_bytes has no id attribute: its value is the identity.
			"random_bytes": {ComputeID: idFromBase64},
			// Early pulumi-random releases wrote random_string state without its schema version;
			// such state is treated as version 1 so the provider's own upgraders apply.
			"random_string": {PreStateUpgradeHook: unversionedStringStateIsV1},
		},
		// State written with the same options as the published plugin, so that a stack can move
		// between this build and the released binary.
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	prefixed := func(module, name string) (string, error) {
		return tokens.MakeStandard(pkg)(module, "Random"+name)
	}
	info.MustComputeTokens(tokens.SingleModule("random_", module, prefixed))
	info.MustApplyAutoAliases()
	return info
}

func idFromBase64(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	value, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes state has no base64 property")
	}
	if value.IsSecret() {
		// The id is never secret in Pulumi; the value is also kept, secret, in the state.
		value = value.SecretValue().Element
	}
	if !value.IsString() {
		return "", errors.New("random_bytes state: base64 is not a string")
	}
	return resource.ID(value.StringValue()), nil
}

func unversionedStringStateIsV1(args tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
	if args.PriorStateSchemaVersion == 0 {
		return 1, args.PriorState, nil
	}
	return args.PriorStateSchemaVersion, args.PriorState, nil
}

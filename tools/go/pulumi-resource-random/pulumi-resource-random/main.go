// Command pulumi-resource-random is the random resource provider plugin: the bridge serving
// terraform-provider-random under the schema pulumi-tfgen-random generated at build time.
package main

import (
	"context"
	_ "embed" // the schema tools/toolchain.py writes beside this file

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"floe.dev/toolchain/pulumi-resource-random/provider"
)

// tfgen's schema.json with the plugin's version set (tfgen leaves it out).
//
//go:embed schema.json
var schema []byte

func main() {
	tfbridge.Main(context.Background(), "random", provider.Provider(), tfbridge.ProviderMetadata{PackageSchema: schema})
}

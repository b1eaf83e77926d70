// Command pulumi-tfgen-random writes the random package's schema (and the bridge metadata) from the
// Terraform provider's own schema: `pulumi-tfgen-random schema --out DIR`. tools/toolchain.py runs it
// at build time, before the provider binary that embeds its output is built.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"floe.dev/toolchain/pulumi-resource-random/provider"
)

func main() {
	tfgen.Main("random", provider.Provider())
}

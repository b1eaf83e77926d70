// Package shim hands terraform-provider-random's provider to the bridge. The constructor lives in the
// provider's internal package, which only packages under the provider's own module path may import:
// this package's module is named github.com/terraform-providers/terraform-provider-random/shim for
// that reason (tools/toolchain.py writes its go.mod and replaces it with this directory).
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	random "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider is terraform-provider-random's plugin-framework provider.
func NewProvider() provider.Provider {
	return random.New()
}

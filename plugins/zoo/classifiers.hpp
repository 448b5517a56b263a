#pragma once

// The classifiers of the original Attention-Gated-Networks code, natively on LibTorch with its
// module and parameter names: SonoNet (`sononet`, `sononet2`) and AG-SonoNet
// (`sononet_grid_attention`). Their run() fills NetworkOutput::heads (one logit tensor per head)
// and, for AG-SonoNet, the gates' attention maps. Internal to plugins/.
#include <memory>
#include <string>
#include <vector>

#include "plugins/zoo/networks.hpp"

namespace gatescope::zoo {

// The heads a classifier returns, by name in output order: {"logits"} for sononet, and for
// sononet_grid_attention by aggregation mode: concat {"concat"}, mean {"classifier1",
// "classifier2", "classifier3"}, deep_sup {"concat", "classifier1", "classifier2",
// "classifier3"}, ft {"ft"}.
[[nodiscard]] std::vector<std::string> classifierHeads(const ZooConfig& config);

// UsageError for an unknown architecture, a 3D tensor_dim, or a nonlocal or aggregation mode the
// architecture does not have.
[[nodiscard]] std::shared_ptr<Network> makeClassifier(const ZooConfig& config);

}  // namespace gatescope::zoo

#pragma once

#include <string>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {

// The gatescope.json extra file of a TorchScript export (docs/models.md, TorchScript export
// contract): fills `info` (name, channels, classes, labels, preprocessing, size multiple, gates)
// and `align_corners`. Every field is checked - types, ranges, whole numbers, gate names given as
// strings or objects - so that nothing later divides by a zero multiple or trusts a class count the
// model does not have. FormatError naming `where` and the field. Fields that are absent keep the
// values `info` already holds.
void readTorchScriptMetadata(const std::string& text, const std::string& where, ModelInfo& info,
                             bool& align_corners);

}  // namespace gatescope

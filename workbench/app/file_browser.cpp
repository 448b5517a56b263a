#include "workbench/app/file_browser.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <filesystem>

#include "workbench/app/workbench_state.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;

namespace {

// The folder relative paths start from: where the workbench started.
const fs::path& startFolder() {
  static const fs::path start = fs::current_path();
  return start;
}

struct CompletionRequest {
  PathKind kind;
  const std::vector<std::string>* extensions;
};

int completeOnTab(ImGuiInputTextCallbackData* data) {
  if (data->EventFlag != ImGuiInputTextFlags_CallbackCompletion) return 0;
  const auto* request = static_cast<const CompletionRequest*>(data->UserData);
  const std::string typed(data->Buf, static_cast<size_t>(data->BufTextLen));
  const std::string completed =
      completePath(typed, startFolder(), request->kind, *request->extensions);
  if (completed != typed) {
    data->DeleteChars(0, data->BufTextLen);
    data->InsertChars(0, completed.c_str());
  }
  return 0;
}

}  // namespace

bool pathField(const char* label, std::string& path, PathKind kind,
               const std::vector<std::string>& extensions, float width) {
  ImGui::PushID(label);
  CompletionRequest request{kind, &extensions};
  ImGui::SetNextItemWidth(width);
  const bool entered = ImGui::InputText(
      "##path", &path,
      ImGuiInputTextFlags_CallbackCompletion | ImGuiInputTextFlags_EnterReturnsTrue, completeOnTab,
      &request);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Tab completes the path");
  ImGui::SameLine();
  if (ImGui::Button("...")) ImGui::OpenPopup("browse");
  if (label[0] != '#' || label[1] != '#') {
    ImGui::SameLine();
    ImGui::TextUnformatted(label);
  }
  if (ImGui::BeginPopup("browse")) {
    if (fileBrowser("browser", path, kind, extensions)) ImGui::CloseCurrentPopup();
    if (ImGui::Button(kind == PathKind::Folder ? "choose this folder" : "close"))
      ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  ImGui::PopID();
  return entered;
}

bool fileBrowser(const char* id, std::string& path, PathKind kind,
                 const std::vector<std::string>& extensions, float height) {
  bool picked = false;
  ImGui::PushID(id);
  const TypedPath typed = splitTypedPath(path, startFolder());
  // Places on the left.
  ImGui::BeginChild("places", ImVec2(170, height), true);
  ImGui::TextDisabled("places");
  for (const fs::path& place : startPlaces(startFolder(), recentFiles())) {
    const std::string name = place.filename().empty() ? place.string() : place.filename().string();
    if (ImGui::Selectable((name + "##" + place.string()).c_str(), typed.folder == place))
      path = place.string() + "/";
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", place.string().c_str());
  }
  ImGui::EndChild();
  ImGui::SameLine();
  // The folder the typed path lies in, its entries that start with what was typed of a name.
  ImGui::BeginChild("entries", ImVec2(380, height), true);
  ImGui::TextDisabled("%s", typed.folder.string().c_str());
  if (typed.folder.has_parent_path() && typed.folder != typed.folder.root_path() &&
      ImGui::Selectable("../"))
    path = typed.folder.parent_path().string() + "/";
  const std::vector<FolderEntry> entries = listFolder(typed.folder, kind, extensions);
  bool any = false;
  for (const FolderEntry& entry : entries) {
    if (entry.name.rfind(typed.prefix, 0) != 0) continue;
    any = true;
    const std::string shown = entry.folder ? entry.name + "/" : entry.name;
    if (ImGui::Selectable(shown.c_str(), false, ImGuiSelectableFlags_AllowDoubleClick)) {
      path = (typed.folder / entry.name).string() + (entry.folder ? "/" : "");
      if (!entry.folder && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) picked = true;
    }
  }
  if (!any && entries.empty())
    ImGui::TextDisabled(kind == PathKind::Folder ? "(no folders here)"
                                                 : "(no matching files or folders here)");
  else if (!any)
    ImGui::TextDisabled("(nothing here starts with '%s')", typed.prefix.c_str());
  ImGui::EndChild();
  ImGui::PopID();
  return picked;
}

}  // namespace gatescope::workbench

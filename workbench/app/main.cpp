// gatescope-workbench: the desktop front end. The UI thread only draws; everything it shows comes
// from the same libraries the CLI uses.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "analysis/core/error.hpp"
#include "workbench/app/about_window.hpp"
#include "workbench/app/interaction_log.hpp"
#include "workbench/app/interaction_player.hpp"
#include "workbench/app/screenshot.hpp"
#include "workbench/app/workbench_app.hpp"

namespace {

struct AppOptions {
  bool demo = false;
  std::string evaluation, session, case_id;
  std::string screenshot;
  int scroll_benchmark = 0;
  bool side_by_side = false;
  int frames = 3;
  bool show_about = false;
  int width = 1280;
  int height = 800;
  std::string play, record;
};

namespace workbench = gatescope::workbench;

// What the window's event callbacks saw since the last frame (input wakes the idle loop) and, with
// --record, the session's steps.
struct InputLog {
  bool seen = false;
  std::optional<workbench::InteractionRecorder> recorder;
  // Keys pressed and released again before a frame saw them down (the loop may sleep through a
  // quick tap): Dear ImGui is shown them down for one frame.
  std::vector<std::pair<int, int>> pressed;  // key, mods: down since the last frame
  std::vector<std::pair<int, int>> taps;     // ... and up again
  std::vector<int> tapped_last_frame;
};
InputLog g_input;

// Between the backend's NewFrame and ImGui::NewFrame: a tap released before this frame is shown
// down for this frame, then up again; a key pressed since the last frame comes with the modifiers
// held when it was pressed (Ctrl may be let go before the frame sees Q).
void showQuickTaps(GLFWwindow* window, ImGuiIO& io) {
  for (const int key : g_input.tapped_last_frame)
    if (key >= 0 && key < IM_ARRAYSIZE(io.KeysDown))
      io.KeysDown[key] = glfwGetKey(window, key) == GLFW_PRESS;
  g_input.tapped_last_frame.clear();
  for (const auto& [key, mods] : g_input.taps) {
    if (key < 0 || key >= IM_ARRAYSIZE(io.KeysDown) || io.KeysDown[key]) continue;
    io.KeysDown[key] = true;
    g_input.tapped_last_frame.push_back(key);
  }
  for (const auto& [key, mods] : g_input.pressed) {
    io.KeyCtrl = io.KeyCtrl || (mods & GLFW_MOD_CONTROL);
    io.KeyShift = io.KeyShift || (mods & GLFW_MOD_SHIFT);
    io.KeyAlt = io.KeyAlt || (mods & GLFW_MOD_ALT);
    io.KeySuper = io.KeySuper || (mods & GLFW_MOD_SUPER);
  }
  g_input.taps.clear();
  g_input.pressed.clear();
}

void installInputCallbacks(GLFWwindow* window) {
  // Installed before Dear ImGui's, which chain to them.
  glfwSetMouseButtonCallback(window, [](GLFWwindow* w, int button, int action, int) {
    g_input.seen = true;
    if (!g_input.recorder || button > 2 || action == GLFW_REPEAT) return;
    double x = 0, y = 0;
    glfwGetCursorPos(w, &x, &y);
    static constexpr workbench::MouseButton kButtons[] = {workbench::MouseButton::Left,
                                                          workbench::MouseButton::Right,
                                                          workbench::MouseButton::Middle};
    g_input.recorder->mouseButton(kButtons[button], action == GLFW_PRESS, x, y);
  });
  glfwSetScrollCallback(window, [](GLFWwindow* w, double, double dy) {
    g_input.seen = true;
    if (!g_input.recorder) return;
    double x = 0, y = 0;
    glfwGetCursorPos(w, &x, &y);
    const int ctrl = glfwGetKey(w, GLFW_KEY_LEFT_CONTROL) == GLFW_PRESS ||
                             glfwGetKey(w, GLFW_KEY_RIGHT_CONTROL) == GLFW_PRESS
                         ? workbench::kModCtrl
                         : 0;
    g_input.recorder->scroll(x, y, dy, ctrl);
  });
  glfwSetKeyCallback(window, [](GLFWwindow*, int key, int, int action, int mods) {
    g_input.seen = true;
    if (g_input.recorder && action != GLFW_RELEASE) g_input.recorder->key(key, mods);
    if (action == GLFW_PRESS) g_input.pressed.emplace_back(key, mods);
    if (action == GLFW_RELEASE)
      for (const auto& [down, mods_down] : g_input.pressed)
        if (down == key) g_input.taps.emplace_back(key, mods_down);
  });
  glfwSetCharCallback(window, [](GLFWwindow*, unsigned int c) {
    g_input.seen = true;
    if (g_input.recorder) g_input.recorder->character(c);
  });
  glfwSetCursorPosCallback(window, [](GLFWwindow*, double, double) { g_input.seen = true; });
  glfwSetCursorEnterCallback(window, [](GLFWwindow*, int) { g_input.seen = true; });
  glfwSetWindowFocusCallback(window, [](GLFWwindow*, int) { g_input.seen = true; });
  glfwSetWindowRefreshCallback(window, [](GLFWwindow*) { g_input.seen = true; });
  glfwSetFramebufferSizeCallback(window, [](GLFWwindow*, int, int) { g_input.seen = true; });
}

void reportGlfwError(int code, const char* description) {
  std::cerr << "gatescope-workbench: GLFW error " << code << ": " << description << "\n";
}

// The demo's evaluation: where `gatescope demo` (or scripts/setup.sh --demo) put it.
std::string findDemoEvaluation() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* out = std::getenv("GATESCOPE_DEMO_OUT")) {
    candidates.push_back(fs::path(out) / "evaluation");  // given: the only place to look
  } else {
    candidates.push_back("build/demo/evaluation");
    candidates.push_back("gatescope-demo/evaluation");
    candidates.push_back(fs::path(GATESCOPE_SOURCE_DIR) / "build" / "demo" / "evaluation");
  }
  for (const auto& c : candidates)
    if (fs::exists(c / "report.json")) return c.string();
  return {};
}

void drawHelpMenu(bool& show_about) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("Help")) {
    if (ImGui::MenuItem("About gatescope")) show_about = true;
    ImGui::EndMenu();
  }
  ImGui::EndMainMenuBar();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"gatescope-workbench: the gatescope desktop workbench", "gatescope-workbench"};
  AppOptions options;
  cli.add_flag("--demo", options.demo,
               "Open the demo evaluation (made by `gatescope demo --out build/demo` or "
               "scripts/setup.sh --demo)");
  cli.add_option("--evaluation", options.evaluation,
                 "Open an evaluation folder (gatescope evaluate --save-predictions)");
  cli.add_option("--case", options.case_id,
                 "Case to open (default: the saved case where A and B differ most)");
  cli.add_option("--session", options.session, "Restore a saved session (File > Save session)");
  cli.add_flag("--side-by-side", options.side_by_side,
               "Start in the A | B | difference view (Tab toggles it)");
  cli.add_option("--scroll-benchmark", options.scroll_benchmark,
                 "Once the case is loaded, scroll the axial view through N frames, print the CPU "
                 "time per frame "
                 "and exit (docs/benchmarks.md)")
      ->check(CLI::PositiveNumber);
  cli.add_option(
      "--screenshot", options.screenshot,
      "Render --frames frames once the case is loaded, save the window as this PNG and exit");
  cli.add_option("--frames", options.frames, "Frames to render before --screenshot (default 3)")
      ->check(CLI::PositiveNumber);
  cli.add_flag("--about", options.show_about, "Open the About window at start");
  cli.add_option("--play", options.play,
                 "Run the steps of this file (clicks, drags, keys, case selections, screenshots; "
                 "docs/workbench.md) and exit")
      ->check(CLI::ExistingFile);
  cli.add_option(
      "--record", options.record,
      "Write what you do in this session as a steps file that --play replays (written when the "
      "workbench closes)");
  cli.add_option("--width", options.width, "Window width in pixels")->check(CLI::Range(320, 8192));
  cli.add_option("--height", options.height, "Window height in pixels")
      ->check(CLI::Range(240, 8192));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gatescope-workbench: " << e.what() << " (see --help)\n";
    return 2;
  }

  std::vector<workbench::Step> steps;
  if (!options.play.empty()) {
    try {
      steps = workbench::readSteps(options.play);
    } catch (const gatescope::Error& e) {
      std::cerr << "gatescope-workbench: " << e.what() << "\n";
      return 2;
    }
  }
  if (!options.record.empty()) {
    const auto folder = std::filesystem::absolute(options.record).parent_path();
    if (!std::filesystem::is_directory(folder)) {
      std::cerr << "gatescope-workbench: " << options.record << ": the folder " << folder.string()
                << " does not exist\n";
      return 2;
    }
    g_input.recorder.emplace();
  }

  if (options.demo) {
    options.evaluation = findDemoEvaluation();
    if (options.evaluation.empty()) {
      std::cerr << "gatescope-workbench: no demo evaluation found: run `gatescope demo --out "
                   "build/demo` (or "
                   "scripts/setup.sh --demo) first\n";
      return 1;
    }
  }

  glfwSetErrorCallback(reportGlfwError);
  if (!glfwInit()) {
    std::cerr << "gatescope-workbench: cannot open a window (no display? run under xvfb-run)\n";
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 2);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GL_TRUE);
  GLFWwindow* window =
      glfwCreateWindow(options.width, options.height, "gatescope workbench", nullptr, nullptr);
  if (!window) {
    std::cerr << "gatescope-workbench: cannot create an OpenGL 3.2 window\n";
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  // Scripted runs go as fast as the machine draws.
  const bool scripted =
      !options.screenshot.empty() || options.scroll_benchmark > 0 || !options.play.empty();
  glfwSwapInterval(scripted ? 0 : 1);
  installInputCallbacks(window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // layout persistence arrives with sessions
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 150");

  int exit_code = 0;
  bool show_about = options.show_about;
  {
    gatescope::workbench::WorkbenchApp app(
        {options.evaluation, options.session, options.case_id, !scripted},
        [window] { glfwMakeContextCurrent(window); });
    if (options.side_by_side) app.state().side_by_side = true;
    // A screenshot counts frames once nothing is loading, and gives up after two minutes.
    const auto started = std::chrono::steady_clock::now();
    int ready_frames = 0;
    std::vector<double>
        benchmark_frames;  // CPU milliseconds per frame: state, compositing, uploads, widgets
    bool quit = false;
    std::optional<workbench::InteractionPlayer> player;
    if (!options.play.empty())
      player.emplace(
          std::move(steps),
          workbench::InteractionPlayer::Hooks{
              [&app] { return app.busy(); }, [&app](const std::string& id) { app.selectCase(id); },
              [&app](const std::string& path) { app.openPath(path); },
              [&app](const workbench::ViewSettings& s) { app.applySettings(s); },
              [&app](const workbench::Step& s) {
                app.inspect(s.text, s.reference, s.models, s.device);
              }});
    // At rest the loop sleeps until input arrives (a tenth of a second while a task reports
    // progress) and then draws a few frames, enough for hover and layout to settle.
    int frames_to_draw = 3;
    uint64_t drawn_revision = 0;
    bool was_busy = false;
    while (!glfwWindowShouldClose(window) && !quit) {
      if (scripted || frames_to_draw > 0) {
        glfwPollEvents();
      } else {
        glfwWaitEventsTimeout(app.busy() ? 0.1 : 1.0);
        frames_to_draw = 1;
      }
      if (g_input.seen) frames_to_draw = std::max(frames_to_draw, 3);
      g_input.seen = false;
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      if (g_input.recorder) g_input.recorder->setBusy(app.busy());
      if (player)
        player->beforeFrame(ImGui::GetIO());
      else
        showQuickTaps(window, ImGui::GetIO());
      ImGui::NewFrame();
      if (ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_Q)) quit = true;

      const auto frame_start = std::chrono::steady_clock::now();
      if (options.scroll_benchmark > 0 && !app.busy() && app.state().currentCase()) {
        // Back and forth through the middle slices, one slice per frame, as a wheel would.
        const int step = (benchmark_frames.size() / 40) % 2 == 0 ? 1 : -1;
        app.state().scroll(gatescope::Plane::Axial, step);
      }
      app.frame();
      drawHelpMenu(show_about);
      gatescope::workbench::drawAboutWindow(show_about);
      quit = quit || app.quitRequested();
      if (player && player->finished()) {
        quit = true;
        if (!player->failure().empty()) {
          std::cerr << "gatescope-workbench: " << options.play << ": " << player->failure() << "\n";
          exit_code = 1;
        }
      }
      // Whatever changed what is shown gets a few more frames.
      const uint64_t revision = app.state().revision();
      if (revision != drawn_revision || app.busy() != was_busy)
        frames_to_draw = std::max(frames_to_draw, 3);
      drawn_revision = revision, was_busy = app.busy();
      frames_to_draw = std::max(0, frames_to_draw - 1);

      ImGui::Render();
      if (options.scroll_benchmark > 0 && !app.busy() && app.state().currentCase()) {
        benchmark_frames.push_back(std::chrono::duration<double, std::milli>(
                                       std::chrono::steady_clock::now() - frame_start)
                                       .count());
        if (static_cast<int>(benchmark_frames.size()) >= options.scroll_benchmark + 5) quit = true;
      }
      int width = 0, height = 0;
      glfwGetFramebufferSize(window, &width, &height);
      glViewport(0, 0, width, height);
      glClearColor(0.11f, 0.12f, 0.14f, 1.0f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

      std::optional<std::string> shot = app.takeScreenshotRequest();
      const bool from_menu =
          shot.has_value();  // confirmed in the status bar; scripted ones are not
      if (shot && g_input.recorder) g_input.recorder->screenshot(*shot);
      if (player)
        if (auto played = player->takeScreenshot()) shot = played;
      if (!options.screenshot.empty()) {
        ready_frames = app.busy() ? 0 : ready_frames + 1;
        const bool timed_out = std::chrono::steady_clock::now() - started > std::chrono::minutes(2);
        if (ready_frames >= options.frames || timed_out) {
          if (timed_out) {
            std::cerr << "gatescope-workbench: still loading after two minutes; saving the window "
                         "as it is\n";
            exit_code = 1;
          }
          shot = options.screenshot;
          quit = true;
        }
        if (app.busy()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (shot) {
        try {
          workbench::saveFramebuffer(*shot, width, height);
          if (from_menu)
            app.confirm("screenshot written to " + std::filesystem::absolute(*shot).string());
        } catch (const gatescope::Error& e) {
          if (from_menu) {
            app.showError(e.what());
          } else {
            std::cerr << "gatescope-workbench: " << e.what() << "\n";
            exit_code = 1;
          }
        }
      }
      glfwSwapBuffers(window);
    }
    if (options.scroll_benchmark > 0) {
      if (benchmark_frames.size() <= 5) {
        std::cerr << "gatescope-workbench: no case was shown: nothing measured\n";
        exit_code = 1;
      } else {
        // The first frames build every texture: left out.
        std::vector<double> times(benchmark_frames.begin() + 5, benchmark_frames.end());
        std::sort(times.begin(), times.end());
        std::printf(
            "scrolling %zu frames: CPU time per frame median %.2f ms, 95th percentile %.2f ms, max "
            "%.2f ms\n",
            times.size(), times[times.size() / 2], times[times.size() * 95 / 100], times.back());
      }
    }
  }

  if (g_input.recorder) {
    try {
      g_input.recorder->save(options.record);
      std::cerr << "gatescope-workbench: recorded " << g_input.recorder->steps().size()
                << " steps in " << options.record << "\n";
    } catch (const gatescope::Error& e) {
      std::cerr << "gatescope-workbench: " << e.what() << "\n";
      exit_code = 1;
    }
  }

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}

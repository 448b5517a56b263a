// gatescope-workbench: the desktop front end. The UI thread only draws; everything it shows comes
// from the same libraries the CLI uses.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "analysis/core/error.hpp"
#include "workbench/app/about_window.hpp"
#include "workbench/app/screenshot.hpp"

namespace {

struct AppOptions {
  std::string screenshot;
  int frames = 3;
  bool show_about = false;
  int width = 1280;
  int height = 800;
};

void reportGlfwError(int code, const char* description) {
  std::cerr << "gatescope-workbench: GLFW error " << code << ": " << description << "\n";
}

void drawMainMenu(bool& show_about, bool& quit) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) quit = true;
    ImGui::EndMenu();
  }
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
  cli.add_option("--screenshot", options.screenshot,
                 "Render --frames frames, save the window as this PNG and exit");
  cli.add_option("--frames", options.frames, "Frames to render before --screenshot (default 3)")
      ->check(CLI::PositiveNumber);
  cli.add_flag("--about", options.show_about, "Open the About window at start");
  cli.add_option("--width", options.width, "Window width in pixels")->check(CLI::Range(320, 8192));
  cli.add_option("--height", options.height, "Window height in pixels")->check(CLI::Range(240, 8192));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gatescope-workbench: " << e.what() << " (see --help)\n";
    return 2;
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
  glfwSwapInterval(options.screenshot.empty() ? 1 : 0);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // layout persistence arrives with sessions
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 150");

  int exit_code = 0;
  bool show_about = options.show_about;
  bool quit = false;
  for (int frame = 1; !glfwWindowShouldClose(window) && !quit; ++frame) {
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    if (ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_Q)) quit = true;

    drawMainMenu(show_about, quit);
    gatescope::workbench::drawAboutWindow(show_about);

    ImGui::Render();
    int width = 0, height = 0;
    glfwGetFramebufferSize(window, &width, &height);
    glViewport(0, 0, width, height);
    glClearColor(0.11f, 0.12f, 0.14f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    if (!options.screenshot.empty() && frame >= options.frames) {
      try {
        gatescope::workbench::saveFramebuffer(options.screenshot, width, height);
      } catch (const gatescope::Error& e) {
        std::cerr << "gatescope-workbench: " << e.what() << "\n";
        exit_code = 1;
      }
      quit = true;
    }
    glfwSwapBuffers(window);
  }

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}

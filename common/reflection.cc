// Reflection on or off per server builder; see reflection.h.
#include "common/reflection.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include <memory>
#include <vector>

#include "absl/flags/flag.h"

ABSL_FLAG(bool, enable_reflection, false,
          "Serve gRPC server reflection on the main port (for grpcurl and co); never on the "
          "health port.");

namespace alliance {
namespace {

constexpr char kPluginName[] = "proto_server_reflection";

// Gives one builder the reflection plugin (once), or removes the one the library registered.
class ReflectionOption final : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const auto& plugin) { return plugin->name() == kPluginName; });
    if (enabled_) {
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
    }
  }

 private:
  const bool enabled_;
};

}  // namespace

void ServeReflection(grpc::ServerBuilder& builder, bool enabled) {
  builder.SetOption(std::make_unique<ReflectionOption>(enabled));
}

void ApplyReflectionFromFlags(grpc::ServerBuilder& builder) {
  ServeReflection(builder, absl::GetFlag(FLAGS_enable_reflection));
}

}  // namespace alliance

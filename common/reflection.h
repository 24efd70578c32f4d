// gRPC server reflection (what grpcurl and co use to list services and fetch the schema),
// served only when --enable_reflection is set. One piece of code for every server: linking
// gRPC's reflection library registers its plugin with every ServerBuilder of the process at
// start-up, so a server serves reflection, on every port, unless its builder removes the plugin.
#ifndef ALLIANCE_COMMON_REFLECTION_H_
#define ALLIANCE_COMMON_REFLECTION_H_

#include <grpcpp/server_builder.h>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(bool, enable_reflection);

namespace alliance {

// Makes `builder`'s server serve reflection exactly when `enabled`. Call it on every builder
// before BuildAndStart.
void ServeReflection(grpc::ServerBuilder& builder, bool enabled);

// ServeReflection with --enable_reflection: for the main port of a service.
void ApplyReflectionFromFlags(grpc::ServerBuilder& builder);

}  // namespace alliance

#endif  // ALLIANCE_COMMON_REFLECTION_H_

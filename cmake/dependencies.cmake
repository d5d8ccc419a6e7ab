# All dependencies come from Debian 12 packages (scripts/install-deps).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# Debian's gRPCConfig.cmake drags in absl/re2 targets inconsistently; the .pc
# files are the reliable interface there.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
pkg_check_modules(PROTOBUF REQUIRED IMPORTED_TARGET protobuf)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(NETFILTER_QUEUE REQUIRED IMPORTED_TARGET libnetfilter_queue)
pkg_check_modules(MNL REQUIRED IMPORTED_TARGET libmnl)
# Regexes from requests and config (linear time, bounded memory).
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# cnats-config.cmake in Debian 12 names a static library the package lacks.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
# chaos-probe --broker rabbitmq: rabbitmq-c, AMQP 0-9-1 (librabbitmq-dev).
pkg_check_modules(RABBITMQ REQUIRED IMPORTED_TARGET librabbitmq)
# chaosctl's run history (libsqlite3-dev); SHA-256 of experiment files (libssl-dev).
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)

find_program(PROTOC protoc REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

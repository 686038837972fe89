// A user of the official Cap'n Proto C++ library on a `ww host --rpc` endpoint, speaking a
// schema of its own (examples/kv-service/kv.capnp), which the host has never seen:
//   kv-interop provide ADDR NAME   provides a Kv under NAME in the host's registry, prints
//                                  "provided" and serves until killed;
//   kv-interop find ADDR NAME      finds it, calls get/put/keys and a pipelined
//                                  sub(prefix).put(...), printing one line per answer.
// Built from source by interop-kv.test.ts.

#include <capnp/ez-rpc.h>
#include <kj/debug.h>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include "host.capnp.h"
#include "registry.capnp.h"
#include "kv.capnp.h"

namespace {

struct Store {
  std::map<std::string, std::string> data;
  uint64_t version = 0;
};

capnp::Data::Reader bytes(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

class KvImpl final : public Kv::Server {
 public:
  KvImpl(std::shared_ptr<Store> store, std::string prefix) : store_(std::move(store)), prefix_(std::move(prefix)) {}

 protected:
  kj::Promise<void> get(GetContext ctx) override {
    auto it = store_->data.find(prefix_ + ctx.getParams().getKey().cStr());
    auto r = ctx.getResults();
    r.setFound(it != store_->data.end());
    if (it != store_->data.end()) r.setValue(bytes(it->second));
    return kj::READY_NOW;
  }

  kj::Promise<void> put(PutContext ctx) override {
    auto p = ctx.getParams();
    auto v = p.getValue();
    store_->data[prefix_ + p.getKey().cStr()] = std::string(reinterpret_cast<const char*>(v.begin()), v.size());
    ctx.getResults().setVersion(++store_->version);
    return kj::READY_NOW;
  }

  kj::Promise<void> keys(KeysContext ctx) override {
    std::vector<std::string> out;
    for (auto& kv : store_->data) {
      if (kv.first.compare(0, prefix_.size(), prefix_) == 0) out.push_back(kv.first.substr(prefix_.size()));
    }
    auto l = ctx.getResults().initKeys(out.size());
    for (size_t i = 0; i < out.size(); i++) l.set(i, out[i].c_str());
    return kj::READY_NOW;
  }

  kj::Promise<void> sub(SubContext ctx) override {
    ctx.getResults().setKv(kj::heap<KvImpl>(store_, prefix_ + ctx.getParams().getPrefix().cStr()));
    return kj::READY_NOW;
  }

 private:
  std::shared_ptr<Store> store_;
  std::string prefix_;
};

// Not run: it shows a Host server compiles with the official generator now that its
// method @0 is `bootContext` (as `context` it shadowed the call context and did not).
class HostSkeleton final : public Host::Server {
 protected:
  kj::Promise<void> bootContext(BootContextContext context) override {
    return KJ_EXCEPTION(UNIMPLEMENTED, "a skeleton");
  }
};

std::string text(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

int provide(capnp::EzRpcClient& client, const char* name) {
  auto& ws = client.getWaitScope();
  auto registry = client.getMain<Host>().registryRequest().send().getRegistry();
  auto req = registry.provideRequest();
  req.setName(name);
  Kv::Client kv = kj::heap<KvImpl>(std::make_shared<Store>(), "");
  req.setService(kv);
  req.initOptions().setTtlMs(600000);
  auto provision = req.send().wait(ws).getProvision();
  std::cout << "provided" << std::endl;
  kj::NEVER_DONE.wait(ws);
}

int find(capnp::EzRpcClient& client, const char* name) {
  auto& ws = client.getWaitScope();
  auto registry = client.getMain<Host>().registryRequest().send().getRegistry();
  auto fr = registry.findRequest();
  fr.setName(name);
  fr.setLimit(1);
  fr.setWaitMs(10000);
  auto found = fr.send().wait(ws);
  if (found.getProviders().size() != 1) {
    std::cout << "found " << found.getProviders().size() << std::endl;
    return 1;
  }
  auto kv = found.getProviders()[0].getService().castAs<Kv>();

  auto put = [&](Kv::Client& to, const char* key, const char* value) {
    auto r = to.putRequest();
    r.setKey(key);
    r.setValue(bytes(value));
    return r.send();
  };
  std::cout << "put a " << put(kv, "a", "1").wait(ws).getVersion() << std::endl;
  std::cout << "put b " << put(kv, "b", "2").wait(ws).getVersion() << std::endl;
  for (const char* key : {"a", "zz"}) {
    auto g = kv.getRequest();
    g.setKey(key);
    auto r = g.send().wait(ws);
    std::cout << "get " << key << " " << (r.getFound() ? "found " + text(r.getValue()) : std::string("missing")) << std::endl;
  }
  // Pipelined: put on sub("p/")'s result, sent before that result arrives.
  auto s = kv.subRequest();
  s.setPrefix("p/");
  auto subbed = s.send();
  auto sub = subbed.getKv();
  auto pipelined = put(sub, "y", "3");
  std::cout << "sub put y " << pipelined.wait(ws).getVersion() << std::endl;
  auto g = kv.getRequest();
  g.setKey("p/y");
  std::cout << "get p/y " << text(g.send().wait(ws).getValue()) << std::endl;
  auto keys = kv.keysRequest().send().wait(ws).getKeys();
  std::cout << "keys";
  for (auto k : keys) std::cout << " " << k.cStr();
  std::cout << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: kv-interop provide|find ADDR NAME" << std::endl;
    return 2;
  }
  std::string mode = argv[1];
  try {
    capnp::EzRpcClient client(argv[2]);
    if (mode == "provide") return provide(client, argv[3]);
    if (mode == "find") return find(client, argv[3]);
  } catch (kj::Exception& e) {
    std::cerr << "kv-interop " << mode << ": " << e.getDescription().cStr() << std::endl;
    return 1;
  }
  std::cerr << "unknown mode " << mode << std::endl;
  return 2;
}

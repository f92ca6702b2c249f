// The JSON form of the introspection snapshots (Cereal's JSON archive). A
// snapshot's fields are the members of the root object; a list is the one
// member of the root, named "clients" or "objects".
#include "mpshare/introspect.hpp"

#include <cereal/archives/json.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <sstream>

#include "mpshare/errors.hpp"

namespace mpshare {

namespace {

cereal::JSONOutputArchive::Options options(bool indent) {
  return indent ? cereal::JSONOutputArchive::Options::Default()
                : cereal::JSONOutputArchive::Options::NoIndent();
}

template <class F>
std::string write_json(bool indent, F&& f) {
  std::ostringstream out;
  {
    cereal::JSONOutputArchive ar(out, options(indent));
    f(ar);
  }
  std::string s = out.str();
  // Without indentation, Cereal still breaks lines; a raw newline is never
  // inside a JSON string, so dropping them all keeps the text intact.
  if (!indent) std::erase(s, '\n');
  return s;
}

template <class F>
void read_json(const std::string& json, F&& f) {
  // Cereal's archive takes a document that parsed as an object on trust.
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    throw ValueError("not the JSON of a snapshot: not a JSON object");
  try {
    std::istringstream in(json);
    cereal::JSONInputArchive ar(in);
    f(ar);
  } catch (const cereal::Exception& e) {
    throw ValueError(std::string("not the JSON of a snapshot: ") + e.what());
  }
}

}  // namespace

std::string to_json(const ServerInfo& info, bool indent) {
  return write_json(indent, [&](auto& ar) { const_cast<ServerInfo&>(info).serialize(ar); });
}

std::string to_json(const std::vector<ClientInfo>& clients, bool indent) {
  return write_json(indent, [&](auto& ar) { ar(cereal::make_nvp("clients", clients)); });
}

std::string to_json(const std::vector<ObjectDetail>& objects, bool indent) {
  return write_json(indent, [&](auto& ar) { ar(cereal::make_nvp("objects", objects)); });
}

ServerInfo server_info_from_json(const std::string& json) {
  ServerInfo info;
  read_json(json, [&](auto& ar) { info.serialize(ar); });
  return info;
}

std::vector<ClientInfo> clients_from_json(const std::string& json) {
  std::vector<ClientInfo> out;
  read_json(json, [&](auto& ar) { ar(cereal::make_nvp("clients", out)); });
  return out;
}

std::vector<ObjectDetail> objects_from_json(const std::string& json) {
  std::vector<ObjectDetail> out;
  read_json(json, [&](auto& ar) { ar(cereal::make_nvp("objects", out)); });
  return out;
}

}  // namespace mpshare

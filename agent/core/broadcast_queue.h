// Transmit-limited broadcast queue for membership gossip (memberlist's
// TransmitLimitedQueue).
//
// Each queued item is keyed (a node id for member records, the packed endpoints for
// edges). Pushing an item with a key already queued replaces the older item and
// resets its transmit count: a newer update about the same node invalidates the
// older one. Take() hands out the least-transmitted items first (newest first among
// equals), counts one transmission per item returned, and drops an item once it has
// been sent `limit` times. The limit is passed at Take() time because it depends on
// the current cluster size (RetransmitLimit()).
//
// Owned by one Membership; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace grapevine::agent::core {

template <typename T>
class BroadcastQueue {
 public:
  void Push(uint64_t key, T item) {
    by_key_.insert_or_assign(key, Entry{std::move(item), 0, next_order_++});
  }

  // Up to `max` items, fewest transmissions first. REQUIRES: limit >= 1.
  std::vector<T> Take(std::size_t max, int limit) {
    std::vector<typename std::map<uint64_t, Entry>::iterator> order;
    order.reserve(by_key_.size());
    for (auto it = by_key_.begin(); it != by_key_.end(); ++it) order.push_back(it);
    std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
      if (x->second.transmits != y->second.transmits)
        return x->second.transmits < y->second.transmits;
      return x->second.order > y->second.order;
    });
    std::vector<T> out;
    for (auto it : order) {
      if (out.size() >= max) break;
      out.push_back(it->second.item);
      if (++it->second.transmits >= limit) by_key_.erase(it);
    }
    return out;
  }

  bool Contains(uint64_t key) const { return by_key_.count(key) != 0; }
  std::size_t size() const { return by_key_.size(); }
  bool empty() const { return by_key_.empty(); }
  void Clear() { by_key_.clear(); }

 private:
  struct Entry {
    T item;
    int transmits = 0;
    uint64_t order = 0;  // push order; larger is newer
  };
  std::map<uint64_t, Entry> by_key_;
  uint64_t next_order_ = 0;
};

}  // namespace grapevine::agent::core

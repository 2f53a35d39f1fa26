#include "agent/algorithms/channel.h"

#include "base/check.h"

namespace grapevine::agent::algorithms {

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kModelGossip:
      return "model gossip";
    case Channel::kCrossGradientRequest:
      return "cross-gradient request";
    case Channel::kCrossGradientReply:
      return "cross-gradient reply";
    case Channel::kPushShare:
      return "push-sum share";
    case Channel::kCompressedGossip:
      return "compressed gossip";
    case Channel::kGroupUpdate:
      return "group update";
    case Channel::kGlobalSnapshot:
      return "global snapshot";
  }
  return "?";
}

Channel ChannelOfModel(proto::ModelPurpose purpose) {
  switch (purpose) {
    case proto::ModelPurpose::kCrossGradient:
      return Channel::kCrossGradientRequest;
    case proto::ModelPurpose::kPushShare:
      return Channel::kPushShare;
    case proto::ModelPurpose::kChocoUpdate:
    case proto::ModelPurpose::kPublicCopy:
      return Channel::kCompressedGossip;
    case proto::ModelPurpose::kWorkerUpdate:
    case proto::ModelPurpose::kLeaderUpdate:
    case proto::ModelPurpose::kGroupModel:
      return Channel::kGroupUpdate;
    case proto::ModelPurpose::kDasoSnapshot:
      return Channel::kGlobalSnapshot;
    default:
      return Channel::kModelGossip;
  }
}

proto::ModelPurpose PurposeOf(Channel c) {
  switch (c) {
    case Channel::kModelGossip:
      return proto::ModelPurpose::kGossip;
    case Channel::kCrossGradientRequest:
      return proto::ModelPurpose::kCrossGradient;
    case Channel::kPushShare:
      return proto::ModelPurpose::kPushShare;
    case Channel::kCompressedGossip:
      return proto::ModelPurpose::kChocoUpdate;  // Send keeps a caller's kPublicCopy
    case Channel::kGroupUpdate:
      return proto::ModelPurpose::kWorkerUpdate;  // and a caller's leader update or model
    case Channel::kGlobalSnapshot:
      return proto::ModelPurpose::kDasoSnapshot;
    case Channel::kCrossGradientReply:
      break;
  }
  GV_CHECK(false && "channel carries no model");
  return proto::ModelPurpose::kGossip;
}

}  // namespace grapevine::agent::algorithms

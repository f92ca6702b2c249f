// mpshare: typed objects shared between processes through a server.
#pragma once

#include "mpshare/array.hpp"
#include "mpshare/batch.hpp"
#include "mpshare/codec.hpp"
#include "mpshare/connect.hpp"
#include "mpshare/dict.hpp"
#include "mpshare/errors.hpp"
#include "mpshare/list.hpp"
#include "mpshare/manager.hpp"
#include "mpshare/pipe.hpp"
#include "mpshare/process.hpp"
#include "mpshare/pool.hpp"
#include "mpshare/queue.hpp"
#include "mpshare/set.hpp"
#include "mpshare/sync.hpp"
#include "mpshare/value.hpp"
#include "mpshare/version.hpp"

/* The state store's records and their index in C, and the search's inner loop over the
 * step table (gilcheck/explore/native.py builds and loads this; store.py and steptable.py
 * are the pure-Python forms of the same thing, and the reference for it).
 *
 * Records: every stored state's record end to end in one byte area (at a fixed stride
 * while all have one length, else with their offsets), an open-addressing table of state
 * ids by a hash of the record, and each state's parent id and first action's number; in
 * fingerprint mode the table holds 64-bit fingerprints instead, and only the records not
 * yet expanded are kept. Entries: the step table's entries, for `expand`. `expand` runs
 * the breadth-first search's loop for states whose threads all have a step-table entry
 * made of record patches: a batch of states at a time, it builds each successor's record
 * by patching the state's own, then interns them in order and appends the edges; it stops
 * before any state that needs Python (a thread without an entry or interpreted each time,
 * a step that violates or hits a limit, no step at all, an ended program), which the
 * search then handles itself.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#include <unistd.h>
#endif

static PyObject *StoreFull = NULL;    /* gilcheck.explore.store.StoreFull */
static PyObject *Interpret = NULL;    /* steptable._INTERPRET */

/* `expand` makes the successors of this many states before storing them, so that the
 * memory their lookups touch loads together. */
#define BATCH 32

typedef struct Made {
    uint64_t hash;
    int32_t via;
    int32_t known; /* its id when a worker found it stored (-2: a known fingerprint), or -1 */
    size_t slot;   /* not found: the empty index slot where the lookup ended */
    size_t mask;   /* the index's mask then; 0 (never an index's) when not looked up */
    const uint8_t *rec; /* its record, in its worker's scratch (several workers) */
    int32_t first; /* not stored, made before in the same round: that one's number, or -1 */
    uint32_t len;
} Made;

/* A successor a worker made (phase 2), and its number in the round. */
typedef struct Owned {
    struct Made *made;
    int32_t number;
} Owned;

typedef struct Worker Worker; /* a part of `expand`'s phase 1 (below) */
/* A worker's state whose successors phase 3 makes (as its `len`, with no successor) */
#define DEFERRED ((size_t)-1)

/* `expand`'s threads: at most this many; each starts with MIN_PER_WORKER states of a
 * batch, doubled after each batch that runs through, up to MAX_PER_WORKER. */
#define MAX_THREADS 64
#define MIN_PER_WORKER 256
#define MAX_PER_WORKER 1024
#define STREAK 4096
/* States scanned per thread at least, where `missing` runs on several. */
#define SCAN_PER_THREAD 4096

typedef struct NEntry NEntry; /* a step-table entry in C (below) */
typedef struct Pool Pool;     /* `expand`'s threads, kept between rounds (below) */

typedef struct {
    PyObject_HEAD
    uint8_t *blob;
    size_t blob_len, blob_cap;
    size_t stride;      /* every record's length while all are alike, else VARIABLE */
    uint32_t *offsets;  /* count + 1 entries, once records differ in length */
    int32_t *parent, *via;
    size_t count, cap;  /* states, and room in offsets (cap + 1), parent, via */
    int32_t *table;
    size_t mask;
    Worker *workers;    /* `expand`'s phase 1, one per thread, with their buffers */
    size_t n_workers;
    Pool *pool;         /* the threads that run workers 1, 2, ... (worker 0: the caller) */
    int32_t *assigned;  /* the ids of a round's successors, in order (several workers) */
    size_t assigned_cap;
    size_t per_worker;  /* states per worker in a batch, with several threads */
    size_t streak;      /* states expanded since the last that needed Python */
    size_t streak_needed, min_per_worker; /* STREAK and MIN_PER_WORKER (`tune`) */
    int busy;           /* in `expand`: no other call may change the records */
    int32_t *grown;     /* `grow_table` on several workers: the index being made, and its mask */
    size_t grown_mask;
    size_t rounds_at_once, rounds_in_order, derived, derived_ahead; /* `rounds()` */
    size_t scan_per_thread; /* `missing`: states per thread at least (`tune`) */
    size_t blob_most;   /* `tune`: a lower limit of the records' bytes (tests), or 0 */
    int32_t *round_dst, *round_starts; /* `store_round`: where a round's edges go, or NULL */
    int32_t round_edge_at;             /* the edges' number of the round's first edge */
    /* Fingerprint mode (hash compaction): the index holds each state's 64-bit
     * fingerprint, not its id, and only the records of states from `base` on are kept
     * (those not yet expanded); `forget` drops the others. */
    int compact;
    uint64_t *fps;
    size_t fp_mask, fp_count;
    size_t base;
} Records;

#define VARIABLE ((size_t)-1)

/* Where state `sid`'s record begins in the byte area, and its length. While every record
 * has the same length (a program whose thread count never changes), records are placed
 * at a fixed stride and no table of offsets is kept: 4 bytes per state less, and one
 * memory access less per lookup. */
static inline size_t record_at(const Records *r, size_t sid, size_t *len) {
    size_t at = sid - r->base;
    if (r->stride != VARIABLE) {
        *len = r->stride;
        return at * r->stride;
    }
    *len = r->offsets[at + 1] - r->offsets[at];
    return r->offsets[at];
}

static uint64_t hash_record(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        k *= 0xBF58476D1CE4E5B9ull;
        k ^= k >> 31;
        h = (h ^ k) * 0x94D049BB133111EBull;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t k = 0;
        memcpy(&k, p, n);
        k *= 0xBF58476D1CE4E5B9ull;
        k ^= k >> 31;
        h = (h ^ k) * 0x94D049BB133111EBull;
    }
    h ^= h >> 29;
    return h;
}

/* A record's 64-bit fingerprint: xxHash64 (seed 0), never 0 (an empty slot). */
#define XXH_P1 0x9E3779B185EBCA87ull
#define XXH_P2 0xC2B2AE3D27D4EB4Full
#define XXH_P3 0x165667B19E3779F9ull
#define XXH_P4 0x85EBCA77C2B2AE63ull
#define XXH_P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t xxh_round(uint64_t acc, uint64_t input) {
    acc += input * XXH_P2;
    return rotl64(acc, 31) * XXH_P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t val) {
    acc ^= xxh_round(0, val);
    return acc * XXH_P1 + XXH_P4;
}

static uint64_t fingerprint(const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = XXH_P1 + XXH_P2, v2 = XXH_P2, v3 = 0, v4 = 0 - XXH_P1;
        do {
            uint64_t k[4];
            memcpy(k, p, 32);
            v1 = xxh_round(v1, k[0]);
            v2 = xxh_round(v2, k[1]);
            v3 = xxh_round(v3, k[2]);
            v4 = xxh_round(v4, k[3]);
            p += 32;
        } while (p + 32 <= end);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xxh_merge(h, v1);
        h = xxh_merge(h, v2);
        h = xxh_merge(h, v3);
        h = xxh_merge(h, v4);
    } else {
        h = XXH_P5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) {
        uint64_t k;
        memcpy(&k, p, 8);
        h ^= xxh_round(0, k);
        h = rotl64(h, 27) * XXH_P1 + XXH_P4;
        p += 8;
    }
    if (p + 4 <= end) {
        uint32_t k;
        memcpy(&k, p, 4);
        h ^= (uint64_t)k * XXH_P1;
        h = rotl64(h, 23) * XXH_P2 + XXH_P3;
        p += 4;
    }
    while (p < end) {
        h ^= (*p) * XXH_P5;
        h = rotl64(h, 11) * XXH_P1;
        p++;
    }
    h ^= h >> 33;
    h *= XXH_P2;
    h ^= h >> 29;
    h *= XXH_P3;
    h ^= h >> 32;
    return h ? h : 1;
}

/* The first empty slot of the exact index from `slot` on, taken for state `sid` by
 * compare-and-swap: other threads take theirs at once. */
static inline void claim_slot(int32_t *table, size_t mask, size_t slot, int32_t sid) {
    for (;;) {
        int32_t empty = -1;
        if (__atomic_compare_exchange_n(&table[slot], &empty, sid, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return;
        slot = (slot + 1) & mask;
    }
}

/* The same for a fingerprint (0: an empty slot). */
static inline void claim_fingerprint(uint64_t *fps, size_t mask, size_t slot, uint64_t fp) {
    for (;;) {
        uint64_t empty = 0;
        if (__atomic_compare_exchange_n(&fps[slot], &empty, fp, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return;
        slot = (slot + 1) & mask;
    }
}

/* States [from, to) put into `table` (of `mask` + 1 slots). Their slots are random places
 * in a large table: each state's slot loads while the states a little before it are put
 * (their hashes kept in a ring). `shared`: other threads fill the table at once. */
#define REHASH_AHEAD 16
static void rehash_into(const Records *r, int32_t *table, size_t mask, size_t from, size_t to,
                        int shared) {
    uint64_t ring[REHASH_AHEAD];
    size_t ahead = from;
    for (size_t sid = from; sid < to; sid++) {
        while (ahead < to && ahead < sid + REHASH_AHEAD) {
            size_t len, a = record_at(r, ahead, &len);
            uint64_t hash = hash_record(r->blob + a, len);
            ring[ahead % REHASH_AHEAD] = hash;
            __builtin_prefetch(&table[hash & mask], 1);
            ahead++;
        }
        size_t slot = ring[sid % REHASH_AHEAD] & mask;
        if (shared) {
            claim_slot(table, mask, slot, (int32_t)sid);
        } else {
            while (table[slot] >= 0) slot = (slot + 1) & mask;
            table[slot] = (int32_t)sid;
        }
    }
}

static int grow_table(Records *r, Worker *workers, size_t n);

/* Room for `more` states after those stored. */
static int reserve_states_for(Records *r, size_t more) {
    if (r->count + more <= r->cap) return 0;
    /* grown by a quarter: realloc moves large areas by remapping pages, and doubling
     * would leave up to half of them unused */
    size_t cap = r->cap ? r->cap + r->cap / 4 : 4096;
    while (cap < r->count + more) cap += cap / 4;
    if (cap > (size_t)INT32_MAX) cap = (size_t)INT32_MAX;
    if (r->count + more > cap) {
        PyErr_SetString(StoreFull, "more states than fit a 32-bit id");
        return -1;
    }
    if (r->stride == VARIABLE) {
        uint32_t *offsets = PyMem_Realloc(r->offsets, (cap + 1) * sizeof(uint32_t));
        if (!offsets) goto fail;
        r->offsets = offsets;
    }
    int32_t *parent = PyMem_Realloc(r->parent, cap * sizeof(int32_t));
    if (!parent) goto fail;
    r->parent = parent;
    int32_t *via = PyMem_Realloc(r->via, cap * sizeof(int32_t));
    if (!via) goto fail;
    r->via = via;
    r->cap = cap;
    return 0;
fail:
    PyErr_NoMemory();
    return -1;
}

static inline int reserve_states(Records *r) { return reserve_states_for(r, 1); }

static int reserve_blob(Records *r, size_t more) {
    if (r->blob_len + more <= r->blob_cap) return 0;
    size_t most = r->stride == VARIABLE ? (size_t)UINT32_MAX : (size_t)PY_SSIZE_T_MAX;
    if (r->blob_most && r->blob_most < most) most = r->blob_most;
    if (r->blob_len + more > most) {
        PyErr_SetString(StoreFull, "the records outgrew 4 GiB");
        return -1;
    }
    size_t cap = r->blob_cap ? r->blob_cap + r->blob_cap / 4 : 1 << 16;
    while (cap < r->blob_len + more) cap += cap / 4;
    if (cap > most) cap = most;
    uint8_t *blob = PyMem_Realloc(r->blob, cap);
    if (!blob) {
        PyErr_NoMemory();
        return -1;
    }
    r->blob = blob;
    r->blob_cap = cap;
    return 0;
}

/* Records of another length than the stride: from now on each record's offset is kept. */
static int keep_offsets(Records *r) {
    if (r->blob_len > (size_t)UINT32_MAX) {
        PyErr_SetString(StoreFull, "the records outgrew 4 GiB");
        return -1;
    }
    uint32_t *offsets = PyMem_Malloc((r->cap + 1) * sizeof(uint32_t));
    if (!offsets) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t at = 0; at + r->base <= r->count; at++) offsets[at] = (uint32_t)(at * r->stride);
    PyMem_Free(r->offsets);
    r->offsets = offsets;
    r->stride = VARIABLE;
    return 0;
}

/* A new state with this record, parent and first action: its id (-1 with an exception
 * set, the store unchanged). Its index entry is the caller's. */
static Py_ssize_t append_state(Records *r, const uint8_t *rec, size_t len, int32_t parent,
                               int32_t via) {
    if (r->count == 0 && r->stride != VARIABLE) r->stride = len;
    if (r->stride != len && r->stride != VARIABLE && keep_offsets(r) < 0) return -1;
    if (reserve_states(r) < 0 || reserve_blob(r, len) < 0) return -1;
    Py_ssize_t sid = (Py_ssize_t)r->count;
    if (len) memcpy(r->blob + r->blob_len, rec, len);
    r->blob_len += len;
    if (r->stride == VARIABLE) r->offsets[sid + 1 - r->base] = (uint32_t)r->blob_len;
    r->parent[sid] = parent;
    r->via[sid] = via;
    r->count++;
    return sid;
}

static int grow_fingerprints(Records *r) {
    size_t size = r->fps ? (r->fp_mask + 1) * 2 : 1 << 12;
    uint64_t *fps = PyMem_Calloc(size, sizeof(uint64_t));
    if (!fps) {
        PyErr_NoMemory();
        return -1;
    }
    size_t mask = size - 1;
    if (r->fps) {
        for (size_t i = 0; i <= r->fp_mask; i++) {
            uint64_t fp = r->fps[i];
            if (!fp) continue;
            size_t slot = (size_t)fp & mask;
            while (fps[slot]) slot = (slot + 1) & mask;
            fps[slot] = fp;
        }
    }
    PyMem_Free(r->fps);
    r->fps = fps;
    r->fp_mask = mask;
    return 0;
}

/* Fingerprint mode: the id of a new state, or -2 for one whose fingerprint is known (a
 * state seen before, or, with the probability `p(miss)` reports, another with the same
 * fingerprint); -1 with an exception set. `fp` is the record's `fingerprint`. */
static Py_ssize_t intern_fingerprint(Records *r, const uint8_t *rec, size_t len, uint64_t fp,
                                     int32_t parent, int32_t via) {
    /* kept at most three quarters full */
    if ((r->fp_count + 1) * 4 > (r->fp_mask + 1) * 3 && grow_fingerprints(r) < 0) return -1;
    size_t slot = (size_t)fp & r->fp_mask;
    for (;;) {
        uint64_t known = r->fps[slot];
        if (!known) break;
        if (known == fp) return -2;
        slot = (slot + 1) & r->fp_mask;
    }
    Py_ssize_t sid = append_state(r, rec, len, parent, via);
    if (sid >= 0) {
        r->fps[slot] = fp;
        r->fp_count++;
    }
    return sid;
}

/* Exact storage: the id of the state with this record (whose hash_record is `hash`),
 * stored first if new; -1 with an exception set. */
static Py_ssize_t intern_exact(Records *r, const uint8_t *rec, size_t len, uint64_t hash,
                               int32_t parent, int32_t via) {
    /* grown first, so that a failure leaves the store as it was */
    if ((r->count + 1) * 2 > r->mask && grow_table(r, NULL, 1) < 0) return -1;
    size_t slot = hash & r->mask;
    for (;;) {
        int32_t sid = r->table[slot];
        if (sid < 0) break;
        size_t known, a = record_at(r, (size_t)sid, &known);
        if (known == len && memcmp(r->blob + a, rec, len) == 0) return sid;
        slot = (slot + 1) & r->mask;
    }
    Py_ssize_t sid = append_state(r, rec, len, parent, via);
    if (sid >= 0) r->table[slot] = (int32_t)sid;
    return sid;
}

/* What a record is looked up by: its fingerprint in fingerprint mode, else its hash. */
static inline uint64_t record_hash(const Records *r, const uint8_t *rec, size_t len) {
    return r->compact ? fingerprint(rec, len) : hash_record(rec, len);
}

/* The id of the state with this record (`hash` is its record_hash), stored first if new;
 * -2 for a known fingerprint; -1 with an exception set. */
static inline Py_ssize_t intern_record(Records *r, const uint8_t *rec, size_t len,
                                       uint64_t hash, int32_t parent, int32_t via) {
    if (r->compact) return intern_fingerprint(r, rec, len, hash, parent, via);
    return intern_exact(r, rec, len, hash, parent, via);
}

static PyObject *Records_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Records *r = (Records *)type->tp_alloc(type, 0);
    if (!r) return NULL;
    r->mask = 4095;
    r->table = PyMem_Malloc((r->mask + 1) * sizeof(int32_t));
    if (!r->table) {
        Py_DECREF(r);
        return PyErr_NoMemory();
    }
    memset(r->table, 0xFF, (r->mask + 1) * sizeof(int32_t));
    r->per_worker = r->min_per_worker = MIN_PER_WORKER;
    r->streak_needed = STREAK;
    r->scan_per_thread = SCAN_PER_THREAD;
    return (PyObject *)r;
}

static void free_workers(Records *r);

static void Records_dealloc(Records *r) {
    PyMem_Free(r->blob);
    PyMem_Free(r->offsets);
    PyMem_Free(r->parent);
    PyMem_Free(r->via);
    PyMem_Free(r->table);
    free_workers(r);
    PyMem_Free(r->fps);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static Py_ssize_t Records_len(Records *r) { return (Py_ssize_t)r->count; }

static int check_sid(Records *r, Py_ssize_t sid) {
    if (sid < 0 || (size_t)sid >= r->count) {
        PyErr_SetString(PyExc_IndexError, "no such state");
        return -1;
    }
    return 0;
}

static PyObject *Records_intern(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "intern(record: bytes, parent: int, via: int)");
        return NULL;
    }
    long parent = PyLong_AsLong(args[1]);
    if (parent == -1 && PyErr_Occurred()) return NULL;
    long via = PyLong_AsLong(args[2]);
    if (via == -1 && PyErr_Occurred()) return NULL;
    if (parent < -1 || parent > INT32_MAX || via < -1 || via > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a parent or action number out of range");
        return NULL;
    }
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the records are in use");
        return NULL;
    }
    const uint8_t *rec = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    size_t len = (size_t)PyBytes_GET_SIZE(args[0]);
    Py_ssize_t sid =
        intern_record(r, rec, len, record_hash(r, rec, len), (int32_t)parent, (int32_t)via);
    if (sid == -1) return NULL; /* -2: a known fingerprint */
    return PyLong_FromSsize_t(sid);
}

static PyObject *Records_record(Records *r, PyObject *arg) {
    Py_ssize_t sid = PyLong_AsSsize_t(arg);
    if (sid == -1 && PyErr_Occurred()) return NULL;
    if (check_sid(r, sid) < 0) return NULL;
    if ((size_t)sid < r->base) {
        PyErr_SetString(PyExc_KeyError, "the record of an expanded state is not kept");
        return NULL;
    }
    size_t len, a = record_at(r, (size_t)sid, &len);
    return PyBytes_FromStringAndSize((const char *)r->blob + a, (Py_ssize_t)len);
}

static PyObject *Records_parent(Records *r, PyObject *arg) {
    Py_ssize_t sid = PyLong_AsSsize_t(arg);
    if (sid == -1 && PyErr_Occurred()) return NULL;
    if (check_sid(r, sid) < 0) return NULL;
    return PyLong_FromLong(r->parent[sid]);
}

static PyObject *Records_via(Records *r, PyObject *arg) {
    Py_ssize_t sid = PyLong_AsSsize_t(arg);
    if (sid == -1 && PyErr_Occurred()) return NULL;
    if (check_sid(r, sid) < 0) return NULL;
    return PyLong_FromLong(r->via[sid]);
}

/* A map of byte keys to byte values (open addressing over an array of items, at most half
 * full; keys and values end to end in one area): the parts Python computes once and C
 * reads, for symmetry (Canon) and for projected entries (Entries). */
typedef struct {
    uint64_t hash;
    size_t key_at, val_at;
    uint32_t key_len, val_len;
} MapItem;

typedef struct {
    uint8_t *bytes; /* keys and values end to end */
    size_t bytes_len, bytes_cap;
    MapItem *items;
    size_t count, items_cap;
    int32_t *slots;
    size_t mask;
} ByteMap;

/* The index of a key's item in the map, or -1. */
static int32_t map_index(const ByteMap *m, const uint8_t *key, size_t len) {
    uint64_t h = hash_record(key, len);
    size_t slot = h & m->mask;
    for (;;) {
        int32_t at = m->slots[slot];
        if (at < 0) return -1;
        const MapItem *it = &m->items[at];
        if (it->hash == h && it->key_len == len && memcmp(m->bytes + it->key_at, key, len) == 0)
            return at;
        slot = (slot + 1) & m->mask;
    }
}

static const uint8_t *map_get(const ByteMap *m, const uint8_t *key, size_t len,
                              uint32_t *val_len) {
    int32_t at = map_index(m, key, len);
    if (at < 0) return NULL;
    *val_len = m->items[at].val_len;
    return m->bytes + m->items[at].val_at;
}

static int map_rehash(ByteMap *m, size_t size) {
    int32_t *slots = PyMem_Malloc(size * sizeof(int32_t));
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    memset(slots, 0xff, size * sizeof(int32_t));
    for (size_t i = 0; i < m->count; i++) {
        size_t slot = m->items[i].hash & (size - 1);
        while (slots[slot] >= 0) slot = (slot + 1) & (size - 1);
        slots[slot] = (int32_t)i;
    }
    PyMem_Free(m->slots);
    m->slots = slots;
    m->mask = size - 1;
    return 0;
}

static int reserve_items(void **items, size_t *cap, size_t count, size_t size);

/* Keep key -> value, the value `val` then `more` (either may be empty; a key already there
 * keeps its first value): the index of the key's item, or -1 with an exception. */
static int32_t map_put(ByteMap *m, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len, const uint8_t *more, size_t more_len) {
    int32_t known = map_index(m, key, key_len);
    if (known >= 0) return known;
    if (more_len > UINT32_MAX - val_len) val_len = UINT32_MAX; /* (refused below) */
    else val_len += more_len;
    if (key_len > UINT32_MAX || val_len > UINT32_MAX || m->count >= INT32_MAX) {
        PyErr_NoMemory();
        return -1;
    }
    if (reserve_items((void **)&m->bytes, &m->bytes_cap, m->bytes_len + key_len + val_len, 1) <
            0 ||
        reserve_items((void **)&m->items, &m->items_cap, m->count + 1, sizeof(MapItem)) < 0)
        return -1;
    MapItem *it = &m->items[m->count];
    it->hash = hash_record(key, key_len);
    it->key_at = m->bytes_len;
    it->key_len = (uint32_t)key_len;
    memcpy(m->bytes + m->bytes_len, key, key_len);
    m->bytes_len += key_len;
    it->val_at = m->bytes_len;
    it->val_len = (uint32_t)val_len;
    if (val_len > more_len) memcpy(m->bytes + m->bytes_len, val, val_len - more_len);
    if (more_len) memcpy(m->bytes + m->bytes_len + val_len - more_len, more, more_len);
    m->bytes_len += val_len;
    size_t slot = it->hash & m->mask;
    while (m->slots[slot] >= 0) slot = (slot + 1) & m->mask;
    int32_t at = (int32_t)m->count;
    m->slots[slot] = at;
    m->count++;
    if (m->count * 2 > m->mask && map_rehash(m, (m->mask + 1) * 2) < 0) return -1;
    return at;
}

/* A Python method's (key: bytes, value: bytes) kept in a map: None, or NULL with an
 * exception (`usage` names the method). */
static PyObject *map_put_args(ByteMap *m, PyObject *const *args, Py_ssize_t nargs,
                              const char *usage) {
    if (nargs != 2 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    if (map_put(m, (const uint8_t *)PyBytes_AS_STRING(args[0]), (size_t)PyBytes_GET_SIZE(args[0]),
                (const uint8_t *)PyBytes_AS_STRING(args[1]), (size_t)PyBytes_GET_SIZE(args[1]), NULL,
                0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Forget every key. */
static int map_clear(ByteMap *m) {
    /* The slots are emptied first: should the smaller table not be made, none is stale. */
    memset(m->slots, 0xff, (m->mask + 1) * sizeof(int32_t));
    m->count = 0;
    m->bytes_len = 0;
    return map_rehash(m, 1024);
}

static void map_free(ByteMap *m) {
    PyMem_Free(m->bytes);
    PyMem_Free(m->items);
    PyMem_Free(m->slots);
    memset(m, 0, sizeof(*m));
}

#define TAIL_SIZE 17 /* gil + 1, vars, locks, channels, stdout + 1, ended: "<HIIIHB" */

/* A step as a patch of the state's record: the thread's new number and the new shared
 * part; `python` when the step is not a patch (a violation or a limit), which the search
 * takes in Python. */
typedef struct {
    uint8_t tail[TAIL_SIZE];
    uint8_t python;
    uint32_t number;
    int32_t via;
} NPatch;

/* A thread's step-table entry (steptable.Entry) for one shared part and thread number:
 * its patches are `count` items of the pool from `first`; `ample` and `handover` index
 * the pool too, or are -1. `interpret`: the thread is interpreted in every state. */
struct NEntry {
    uint8_t tail[TAIL_SIZE];
    uint8_t interpret, wants, used; /* used: the slot of the table holds an entry */
    uint16_t tid;
    uint16_t watch; /* a `join`: the joined thread's id + 1 (see `find_entries`), or 0 */
    uint32_t number;
    int32_t ample, handover, first, count;
};

/* The step table's entries in C, by (shared part, thread id, thread number): what
 * `expand` looks up, so that a state whose threads all have entries is expanded without
 * touching a Python object. steptable.py adds each entry it makes (`add`) and empties it
 * when it starts afresh (`clear`). The entries sit in the slots of an open-addressing
 * table (at most half full): a lookup reads one slot, which `expand` prefetches. */
typedef struct {
    PyObject_HEAD
    NEntry *slots;
    size_t count, mask;
    NPatch *pool;
    size_t pool_len, pool_cap;
    ByteMap projected; /* what `derive_entry` makes entries from (below) */
    /* Every part of the store (vars, locks, channels), as item ids (4 bytes each; store.py's
     * `_LinkedParts` numbers the items): keyed by the items as Python compares them (equal
     * items alike, `true` and 1 too), valued by the part's number and its items as they
     * are (`true` and 1 apart: the objects Python rebuilds it from); and by number, the
     * index of its item in that map. Python tells each part it numbers (`part`), and C
     * numbers the parts its derived steps make (`changed_part`), which Python takes
     * (`parts_from`): one numbering. Kept when the table starts afresh. */
    ByteMap parts;
    int32_t *part_at;
    size_t parts_count, part_at_cap;
    size_t limit;      /* no entry is derived once this many are kept */
    /* The entries several threads derive (each for itself) are kept only while the table
     * holds fewer than this many: past that, where nearly every state meets a new
     * combination of the shared parts, a table that grows without end costs more than
     * deriving them again, each thread for itself (`keep_derived`). */
    size_t keep_most;
    /* Persistent sets (engine/stubborn.py): FACT_WORDS words per thread number, in order
     * of numbers (`set_facts`): position, touch, waits, future, future while holding the
     * GIL (stubborn.ThreadFacts). */
    uint64_t *facts;
    size_t facts_len, facts_cap; /* numbers told; words of room */
} Entries;

#define FACT_WORDS 5
#define KEEP_MOST ((size_t)1 << 20) /* Entries.keep_most by default */

/* How many entries the table holds at most that keeps those the threads derive: its
 * `keep_most`, and half its limit (the table starts afresh at 7/8 of it, which entries
 * derived again and again would otherwise reach). */
static inline size_t keeps_most(const Entries *e) {
    return e->keep_most < e->limit / 2 ? e->keep_most : e->limit / 2;
}

/* Whether the table is past 7/8 of its limit, where `missing` stops deriving (as
 * steptable's `_nearly_full`, where Python starts it afresh). */
static inline int nearly_full(const Entries *e) {
    return 8 * e->count > 7 * e->limit;
}
#define POSITION_CODE_SHIFT 24 /* stubborn._CODE_SHIFT */

/* A thread number's persistent-set facts, or NULL where Python has not told them yet. */
static inline const uint64_t *number_facts(const Entries *e, uint32_t number) {
    return number < e->facts_len ? &e->facts[(size_t)number * FACT_WORDS] : NULL;
}

#define END_POSITION ((int64_t)1 << 62) /* stubborn.END_POSITION: an ended thread */

/* stubborn.forward: the same function at the same depth, a higher statement index, or
 * the thread's end. */
static inline int moves_forward(uint64_t before_word, uint64_t after_word) {
    int64_t before = (int64_t)before_word, after = (int64_t)after_word;
    if (before < 0 || after < 0 || before == END_POSITION) return 0;
    if (after == END_POSITION) return 1;
    return before >> POSITION_CODE_SHIFT == after >> POSITION_CODE_SHIFT && after > before;
}

static uint64_t entry_hash(uint64_t tail_hash, size_t tid, uint32_t number) {
    uint64_t k = ((uint64_t)tid << 32 | number) * 0xBF58476D1CE4E5B9ull;
    k ^= k >> 31;
    uint64_t h = (tail_hash ^ k) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}

/* The slot of an entry, or of the empty slot where it would go. */
static NEntry *entries_slot(Entries *e, const uint8_t *tail, uint64_t tail_hash, size_t tid,
                            uint32_t number) {
    size_t slot = entry_hash(tail_hash, tid, number) & e->mask;
    for (;;) {
        NEntry *it = &e->slots[slot];
        if (!it->used) return it;
        if (it->number == number && it->tid == tid && memcmp(it->tail, tail, TAIL_SIZE) == 0)
            return it;
        slot = (slot + 1) & e->mask;
    }
}

static inline NEntry *entries_find(Entries *e, const uint8_t *tail, uint64_t tail_hash,
                                   size_t tid, uint32_t number) {
    NEntry *it = entries_slot(e, tail, tail_hash, tid, number);
    return it->used ? it : NULL;
}

#define REBUILD_AHEAD 8

/* An entry put in the first empty slot from `slot`, its own, in a table that holds no
 * equal key. */
static void rebuild_put(Entries *e, const NEntry *it, size_t slot) {
    while (e->slots[slot].used) slot = (slot + 1) & e->mask;
    e->slots[slot] = *it;
}

/* A table of `size` empty slots in place of the old one, whose entries it takes. */
static int entries_rebuild(Entries *e, size_t size) {
    NEntry *slots = PyMem_Calloc(size, sizeof(NEntry));
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    NEntry *old = e->slots;
    size_t old_size = old ? e->mask + 1 : 0;
    e->slots = slots;
    e->mask = size - 1;
    /* The keys are distinct: each goes to the first empty slot from its own, whose load
     * starts a few entries ahead. */
    size_t from[REBUILD_AHEAD], at[REBUILD_AHEAD], head = 0, queued = 0;
    for (size_t i = 0; i < old_size; i++) {
        if (!old[i].used) continue;
        size_t slot =
            entry_hash(hash_record(old[i].tail, TAIL_SIZE), old[i].tid, old[i].number) & e->mask;
        __builtin_prefetch(&slots[slot], 1);
        if (queued == REBUILD_AHEAD) {
            rebuild_put(e, &old[from[head]], at[head]);
            head = (head + 1) % REBUILD_AHEAD;
            queued--;
        }
        size_t tail = (head + queued++) % REBUILD_AHEAD;
        from[tail] = i;
        at[tail] = slot;
    }
    for (; queued; queued--, head = (head + 1) % REBUILD_AHEAD)
        rebuild_put(e, &old[from[head]], at[head]);
    PyMem_Free(old);
    return 0;
}

/* An entry of (tail, tid, number), empty (no step, no ample step or handover), in `it`. */
static void entry_init(NEntry *it, const uint8_t *tail, size_t tid, uint32_t number) {
    memset(it, 0, sizeof(*it));
    memcpy(it->tail, tail, TAIL_SIZE);
    it->tid = (uint16_t)tid;
    it->number = number;
    it->ample = it->handover = -1;
    it->used = 1;
}

/* A new entry (`entry_init`) with room for it in the table: 0, or -1 with an exception.
 * `entries_keep` keeps it. */
static int entries_start(Entries *e, const uint8_t *tail, size_t tid, uint32_t number,
                         NEntry *it) {
    if ((e->count + 1) * 2 > e->mask && entries_rebuild(e, (e->mask + 1) * 2) < 0) return -1;
    entry_init(it, tail, tid, number);
    return 0;
}

static void entries_keep(Entries *e, uint64_t tail_hash, const NEntry *it) {
    *entries_slot(e, it->tail, tail_hash, it->tid, it->number) = *it;
    e->count++;
}

static PyObject *Entries_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Py_ssize_t limit = PY_SSIZE_T_MAX, keep_most = (Py_ssize_t)KEEP_MOST;
    if (!PyArg_ParseTuple(args, "|nn", &limit, &keep_most)) return NULL;
    Entries *e = (Entries *)type->tp_alloc(type, 0);
    if (!e) return NULL;
    e->limit = limit < 0 ? 0 : (size_t)limit;
    e->keep_most = keep_most < 0 ? 0 : (size_t)keep_most;
    if (entries_rebuild(e, 1024) < 0 || map_rehash(&e->projected, 1024) < 0 ||
        map_rehash(&e->parts, 1024) < 0) {
        Py_DECREF(e);
        return NULL;
    }
    return (PyObject *)e;
}

static void Entries_dealloc(Entries *e) {
    PyMem_Free(e->slots);
    PyMem_Free(e->pool);
    PyMem_Free(e->facts);
    map_free(&e->projected);
    map_free(&e->parts);
    PyMem_Free(e->part_at);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static Py_ssize_t Entries_len(Entries *e) { return (Py_ssize_t)e->count; }

/* Room for `count` items of `size` bytes in a worker's growable buffer (no exception: a
 * worker runs without the GIL). Workers' memory comes from the C library, not Python's
 * raw allocator: with tracemalloc on, that allocator takes the GIL, which the thread
 * waiting for the workers holds. */
static int raw_reserve(void **items, size_t *cap, size_t count, size_t size) {
    if (count <= *cap) return 0;
    size_t want = count * 2;
    void *grown = realloc(*items, want * size);
    if (!grown) return -1;
    *items = grown;
    *cap = want;
    return 0;
}

/* Room for `count` items of `size` bytes in a growable buffer (the GIL held). */
static int reserve_items(void **items, size_t *cap, size_t count, size_t size) {
    if (count <= *cap) return 0;
    size_t want = count * 2;
    void *grown = PyMem_Realloc(*items, want * size);
    if (!grown) {
        PyErr_NoMemory();
        return -1;
    }
    *items = grown;
    *cap = want;
    return 0;
}

/* A patch (action, number: 4 bytes, tail: 17 bytes, via: int) into the pool; one that is
 * not such a patch (a violation or a limit) is kept as `python`. Its index, or -1 with
 * an exception set. */
static int32_t pool_patch(Entries *e, PyObject *patch) {
    if (reserve_items((void **)&e->pool, &e->pool_cap, e->pool_len + 1, sizeof(NPatch)) < 0)
        return -1;
    NPatch *out = &e->pool[e->pool_len];
    memset(out, 0, sizeof(NPatch));
    out->python = 1;
    if (PyTuple_Check(patch) && PyTuple_GET_SIZE(patch) == 4) {
        PyObject *num = PyTuple_GET_ITEM(patch, 1), *t = PyTuple_GET_ITEM(patch, 2);
        PyObject *v = PyTuple_GET_ITEM(patch, 3);
        if (PyBytes_Check(num) && PyBytes_GET_SIZE(num) == 4 && PyBytes_Check(t) &&
            PyBytes_GET_SIZE(t) == TAIL_SIZE && PyLong_Check(v)) {
            long via = PyLong_AsLong(v);
            if (via == -1 && PyErr_Occurred()) PyErr_Clear();
            else if (via >= -1 && via <= INT32_MAX) {
                memcpy(&out->number, PyBytes_AS_STRING(num), 4);
                memcpy(out->tail, PyBytes_AS_STRING(t), TAIL_SIZE);
                out->via = (int32_t)via;
                out->python = 0;
            }
        }
    }
    return (int32_t)e->pool_len++;
}

/* add(tail: bytes, tid: int, number: int, entry): the entry of thread `tid` with this
 * number in states with this shared part (a steptable.Entry, or INTERPRET). */
static PyObject *Entries_add(Entries *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyBytes_Check(args[0]) || PyBytes_GET_SIZE(args[0]) != TAIL_SIZE) {
        PyErr_SetString(PyExc_TypeError, "add(tail: 17 bytes, tid, number, entry)");
        return NULL;
    }
    if (!Interpret) {
        PyErr_SetString(PyExc_RuntimeError, "configure() the module first");
        return NULL;
    }
    long tid = PyLong_AsLong(args[1]);
    if (tid == -1 && PyErr_Occurred()) return NULL;
    unsigned long number = PyLong_AsUnsignedLong(args[2]);
    if (number == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    if (tid < 0 || tid > UINT16_MAX || number > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a thread id or number out of range");
        return NULL;
    }
    PyObject *entry = args[3];
    int interpret = entry == Interpret;
    if (!interpret && (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 4 ||
                       !PyTuple_Check(PyTuple_GET_ITEM(entry, 1)))) {
        PyErr_SetString(PyExc_TypeError, "an entry is (ample, steps, wants, handover)");
        return NULL;
    }
    const uint8_t *tail = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
    if (entries_find(e, tail, tail_hash, (size_t)tid, (uint32_t)number)) Py_RETURN_NONE;
    size_t pool_before = e->pool_len;
    NEntry it;
    if (entries_start(e, tail, (size_t)tid, (uint32_t)number, &it) < 0) return NULL;
    it.interpret = (uint8_t)interpret;
    if (!interpret) {
        PyObject *ample = PyTuple_GET_ITEM(entry, 0), *steps = PyTuple_GET_ITEM(entry, 1);
        PyObject *handover = PyTuple_GET_ITEM(entry, 3);
        it.wants = PyTuple_GET_ITEM(entry, 2) == Py_True; /* the engine's GIL wish is a bool */
        it.first = (int32_t)e->pool_len;
        it.count = (int32_t)PyTuple_GET_SIZE(steps);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(steps); i++)
            if (pool_patch(e, PyTuple_GET_ITEM(steps, i)) < 0) goto fail;
        if (ample != Py_None && (it.ample = pool_patch(e, ample)) < 0) goto fail;
        if (handover != Py_None && (it.handover = pool_patch(e, handover)) < 0) goto fail;
    }
    entries_keep(e, tail_hash, &it);
    Py_RETURN_NONE;
fail:
    e->pool_len = pool_before;
    return NULL;
}

static PyObject *Entries_clear(Entries *e, PyObject *unused) {
    NEntry *slots = PyMem_Calloc(1024, sizeof(NEntry));
    if (!slots) return PyErr_NoMemory();
    PyMem_Free(e->slots);
    e->slots = slots;
    e->mask = 1023;
    e->count = 0;
    e->pool_len = 0;
    if (map_clear(&e->projected) < 0) return NULL;
    Py_RETURN_NONE;
}

/* A joining thread's two entries are kept under its id with one of these added, for
 * whether the thread it joins has ended (steptable's _Watch); ids below WATCH_LIMIT. */
#define RUNNING_FLAG 0x8000
#define ENDED_FLAG 0x4000
#define WATCH_LIMIT 0x4000

/* watch(tail, tid, number, target): thread `tid` with this number in states with this
 * shared part joins thread `target`: its entry is the one kept for whether that thread
 * has ended, which `project`'s 'e' facts tell by thread number. */
static PyObject *Entries_watch(Entries *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyBytes_Check(args[0]) || PyBytes_GET_SIZE(args[0]) != TAIL_SIZE) {
        PyErr_SetString(PyExc_TypeError, "watch(tail: 17 bytes, tid, number, target)");
        return NULL;
    }
    unsigned long tid = PyLong_AsUnsignedLong(args[1]);
    if (tid == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    unsigned long number = PyLong_AsUnsignedLong(args[2]);
    if (number == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    unsigned long target = PyLong_AsUnsignedLong(args[3]);
    if (target == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    if (tid >= WATCH_LIMIT || number > UINT32_MAX || target >= 0xffff) {
        PyErr_SetString(PyExc_OverflowError, "a thread id or number out of range");
        return NULL;
    }
    const uint8_t *tail = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
    if (entries_find(e, tail, tail_hash, (size_t)tid, (uint32_t)number)) Py_RETURN_NONE;
    NEntry it;
    if (entries_start(e, tail, (size_t)tid, (uint32_t)number, &it) < 0) return NULL;
    it.watch = (uint16_t)(target + 1);
    entries_keep(e, tail_hash, &it);
    Py_RETURN_NONE;
}

/* has(tail, tid, number): whether the thread has its entry in states with this shared
 * part (made by `add`, or derived in C). */
static PyObject *Entries_has(Entries *e, PyObject *const *args, Py_ssize_t nargs) {
    unsigned long tid, number;
    if (nargs != 3 || !PyBytes_Check(args[0]) || PyBytes_GET_SIZE(args[0]) != TAIL_SIZE) {
        PyErr_SetString(PyExc_TypeError, "has(tail: 17 bytes, tid, number)");
        return NULL;
    }
    tid = PyLong_AsUnsignedLong(args[1]);
    if (tid == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    number = PyLong_AsUnsignedLong(args[2]);
    if (number == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    if (tid > UINT16_MAX || number > UINT32_MAX) Py_RETURN_FALSE;
    const uint8_t *tail = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    NEntry *it = entries_find(e, tail, hash_record(tail, TAIL_SIZE), (size_t)tid,
                              (uint32_t)number);
    return PyBool_FromLong(it != NULL);
}

/* The next number of something told in order (`arg`; `count` told so far): 0, or -1 with
 * an exception (`what` is told in order of numbers). */
static int told_next(PyObject *arg, size_t count, const char *what) {
    Py_ssize_t next = PyLong_AsSsize_t(arg);
    if (next == -1 && PyErr_Occurred()) return -1;
    if ((size_t)next != count) {
        PyErr_Format(PyExc_ValueError, "%s are told in order of numbers", what);
        return -1;
    }
    return 0;
}

/* set_facts(first, data): the persistent-set facts of the thread numbers from `first`
 * (which must be the count told so far), FACT_WORDS little-endian words each. */
static PyObject *Entries_set_facts(Entries *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyBytes_Check(args[1]) ||
        PyBytes_GET_SIZE(args[1]) % (FACT_WORDS * 8) != 0) {
        PyErr_SetString(PyExc_TypeError, "set_facts(first: int, data: bytes of 40 each)");
        return NULL;
    }
    if (told_next(args[0], e->facts_len, "facts") < 0) return NULL;
    size_t more = (size_t)PyBytes_GET_SIZE(args[1]) / (FACT_WORDS * 8);
    if (reserve_items((void **)&e->facts, &e->facts_cap, (e->facts_len + more) * FACT_WORDS,
                      sizeof(uint64_t)) < 0)
        return PyErr_NoMemory();
    memcpy(&e->facts[e->facts_len * FACT_WORDS], PyBytes_AS_STRING(args[1]),
           more * FACT_WORDS * 8);
    e->facts_len += more;
    Py_RETURN_NONE;
}

static PyObject *Entries_facts_told(Entries *e, PyObject *unused) {
    return PyLong_FromSize_t(e->facts_len);
}

/* project(key, value): a fact `derive_entry` makes entries from (its comment names the
 * keys steptable.py makes); a key already known keeps its first value. */
static PyObject *Entries_project(Entries *e, PyObject *const *args, Py_ssize_t nargs) {
    return map_put_args(&e->projected, args, nargs, "project(key: bytes, value: bytes)");
}

#define MAX_PART_ITEMS 1024 /* changes to longer parts are made by Python */

/* Keep a part's items (`len` bytes: as compared, and as they are at `objects`) under the
 * next number: 0, or -1 with an exception. */
static int number_part(Entries *e, const uint8_t *items, const uint8_t *objects, size_t len) {
    if (e->parts_count >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many parts");
        return -1;
    }
    uint32_t number = (uint32_t)e->parts_count;
    if (reserve_items((void **)&e->part_at, &e->part_at_cap, e->parts_count + 1,
                      sizeof(int32_t)) < 0)
        return -1;
    /* (equal items are one part: the store never numbers a part twice) */
    int32_t at = map_put(&e->parts, items, len, (const uint8_t *)&number, 4, objects, len);
    if (at < 0) return -1;
    e->part_at[e->parts_count++] = at;
    return 0;
}

/* part(number, items, objects): the items of the part Python numbered `number` (the next
 * one), as item ids (4 bytes each, little-endian): as compared, and as they are. */
static PyObject *Entries_part(Entries *e, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyBytes_Check(args[1]) || PyBytes_GET_SIZE(args[1]) % 4 != 0 ||
        !PyBytes_Check(args[2]) || PyBytes_GET_SIZE(args[2]) != PyBytes_GET_SIZE(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "part(number: int, items: bytes of 4 each, objects: as many)");
        return NULL;
    }
    if (told_next(args[0], e->parts_count, "parts") < 0) return NULL;
    if (number_part(e, (const uint8_t *)PyBytes_AS_STRING(args[1]),
                    (const uint8_t *)PyBytes_AS_STRING(args[2]),
                    (size_t)PyBytes_GET_SIZE(args[1])) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* parts_from(first) -> [objects]: the items as they are of the parts numbered from `first`
 * on. */
static PyObject *Entries_parts_from(Entries *e, PyObject *arg) {
    Py_ssize_t first = PyLong_AsSsize_t(arg);
    if (first == -1 && PyErr_Occurred()) return NULL;
    if (first < 0 || (size_t)first > e->parts_count) {
        PyErr_SetString(PyExc_ValueError, "no such part");
        return NULL;
    }
    PyObject *out = PyList_New((Py_ssize_t)e->parts_count - first);
    for (size_t i = (size_t)first; out && i < e->parts_count; i++) {
        const MapItem *it = &e->parts.items[e->part_at[i]];
        PyObject *items = PyBytes_FromStringAndSize((const char *)e->parts.bytes + it->val_at + 4,
                                                    it->key_len);
        if (!items) Py_CLEAR(out);
        else PyList_SET_ITEM(out, (Py_ssize_t)(i - (size_t)first), items);
    }
    return out;
}

static PyObject *Entries_parts_known(Entries *e, PyObject *unused) {
    return PyLong_FromSize_t(e->parts_count);
}

/* The map item of the part whose number is at `part` (4 bytes): its key the items as
 * compared, its value the number and the items as they are; NULL for no such part. */
static const MapItem *part_item(const Entries *e, const uint8_t *part) {
    uint32_t number;
    memcpy(&number, part, 4);
    return number < e->parts_count ? &e->parts.items[e->part_at[number]] : NULL;
}

/* The item ids (as compared) of the part whose number is at `part` (4 bytes), and how many
 * (`count`); NULL for no such part. */
static const uint8_t *part_items(const Entries *e, const uint8_t *part, uint32_t *count) {
    const MapItem *it = part_item(e, part);
    if (!it) return NULL;
    *count = it->key_len / 4;
    return e->parts.bytes + it->key_at;
}

/* Projected entries (steptable.py's `_from_template` is the reference): a thread's entry
 * in a shared part made from facts Python keeps in `projected` (all numbers
 * little-endian, thread ids 2 bytes, the rest 4) and from the parts' items (`part`):
 *   'f' tid number vars at(1)            -> the id of the thread's at-th read set there
 *        (the locks and channels its steps read; tried in order, at from 0)
 *   'r' fid -> the read set: how many locks(2), how many channels(2), then their
 *        indices in the parts (2 each)
 *   'k' tid number gil(2) vars tail[14:17] fid, then the item ids the read set names in
 *        this state's locks and channels parts, the GIL as in the state, or 0xffff where
 *        another thread holds it -> the template: wants(1), handover(1), steps(4), then
 *        per step and the handover: python(1) number(4) tail(17) via(4) lock-change(4)
 *        channel-change(4), a change -1 where the step changes none of that part
 *   'D' change -> the items it changes: index(4), item id as compared(4) and as it is(4)
 *        each
 * The derived patch takes the template's tail with the locks and channels parts of this
 * state, changed (the part with those items, which Python must have told), and this
 * state's GIL where another thread holds it. 1: the entry was derived and kept; 0: a
 * fact is missing (Python makes the entry); -1 with an exception. */
#define TEMPLATE_STEP 34
#define MAX_READ_SETS 8   /* steptable.MAX_READ_SETS */
#define MAX_KEY_ITEMS 64  /* read sets naming more are made by Python */

/* A template's steps and handover: the patches made of it. */
static inline size_t template_patches(const uint8_t *t) {
    uint32_t steps;
    memcpy(&steps, t + 2, 4);
    return (size_t)steps + (t[1] ? 1 : 0);
}

/* An entry's steps from its template, their patches from `first` on in their pool. */
static void entry_steps(NEntry *it, const uint8_t *t, size_t first) {
    uint32_t steps;
    memcpy(&steps, t + 2, 4);
    it->wants = t[0] != 0;
    it->first = (int32_t)first;
    it->count = (int32_t)steps;
    it->handover = t[1] ? (int32_t)(first + steps) : -1;
}

/* The item ids a read set names in a part (`indices`: `count` of them, 2 bytes each) at
 * `out`: 1, or 0 where an index is past the part's end. */
static int read_items(const uint8_t *items, uint32_t len, const uint8_t *indices, size_t count,
                      uint8_t *out) {
    for (size_t i = 0; i < count; i++) {
        uint16_t index;
        memcpy(&index, indices + 2 * i, 2);
        if (index >= len) return 0;
        memcpy(out + 4 * i, items + 4 * (size_t)index, 4);
    }
    return 1;
}

/* The template Python left for thread `tid` at `number` with this tail's shared part, for
 * the first of its read sets whose projections are known (NULL: none), and whether
 * another thread holds the GIL. Reads the entries only. */
static const uint8_t *find_template(const Entries *e, const uint8_t *tail, size_t tid,
                                    uint32_t number, int *others) {
    if (e->projected.count == 0 || e->count >= e->limit || tid > UINT16_MAX) return NULL;
    uint32_t n_locks, n_chans;
    const uint8_t *locks = part_items(e, tail + 6, &n_locks);
    const uint8_t *chans = locks ? part_items(e, tail + 10, &n_chans) : NULL;
    if (!chans) return NULL;
    uint8_t find[12], key[20 + 4 * MAX_KEY_ITEMS];
    uint32_t len;
    uint16_t tid16 = (uint16_t)tid;
    /* The GIL as free, the thread's own, or another's (0xffff; steptable's _OTHERS_GIL) */
    uint16_t gil = (uint16_t)(tail[0] | tail[1] << 8);
    *others = gil != 0 && gil != tid + 1 && tid + 1 < 0xffff;
    find[0] = 'f';
    memcpy(find + 1, &tid16, 2);
    memcpy(find + 3, &number, 4);
    memcpy(find + 7, tail + 2, 4);
    key[0] = 'k';
    memcpy(key + 1, find + 1, 6);
    memcpy(key + 7, tail, 6);
    if (*others) key[7] = key[8] = 0xff;
    memcpy(key + 13, tail + 14, 3);
    for (uint8_t at = 0; at < MAX_READ_SETS; at++) {
        find[11] = at;
        const uint8_t *fid = map_get(&e->projected, find, sizeof find, &len);
        if (!fid || len != 4) return NULL; /* no read set more */
        uint8_t named[5] = {'r'};
        memcpy(named + 1, fid, 4);
        const uint8_t *reads = map_get(&e->projected, named, sizeof named, &len);
        if (!reads || len < 4) continue;
        uint16_t read_locks, read_chans;
        memcpy(&read_locks, reads, 2);
        memcpy(&read_chans, reads + 2, 2);
        size_t count = (size_t)read_locks + read_chans;
        if (len != 4 + 2 * count || count > MAX_KEY_ITEMS) continue;
        memcpy(key + 16, fid, 4);
        if (!read_items(locks, n_locks, reads + 4, read_locks, key + 20) ||
            !read_items(chans, n_chans, reads + 4 + 2 * read_locks, read_chans,
                        key + 20 + 4 * read_locks))
            continue;
        const uint8_t *t = map_get(&e->projected, key, 20 + 4 * count, &len);
        if (!t) continue;
        if (len < 6 || len != 6 + template_patches(t) * TEMPLATE_STEP) return NULL;
        return t;
    }
    return NULL;
}

/* The items of a part (`count` of them, 4 bytes each) at `out`, with those of a change
 * (`told` bytes of 'D' triples) made: the ids as compared (`which` 0) or as they are (1).
 * 1, or 0 where the change names an item past the part's end. */
static int changed_items(const uint8_t *items, size_t count, const uint8_t *changes,
                         uint32_t told, int which, uint8_t *out) {
    memcpy(out, items, 4 * count);
    for (uint32_t i = 0; i < told; i += 12) {
        uint32_t index;
        memcpy(&index, changes + i, 4);
        if (index >= count) return 0;
        memcpy(out + 4 * (size_t)index, changes + i + 4 + 4 * which, 4);
    }
    return 1;
}

/* The number of the part `own` (4 bytes) with the items of change `change` (4 bytes) made,
 * at `out`: 1, or 0 where Python has not told the change, or the new part is not numbered
 * yet and `make` is NULL (else it is numbered: `make` is the table, which its caller has
 * alone), or -1 with an exception. */
static int changed_part(const Entries *e, const uint8_t *own, const uint8_t *change,
                        uint8_t *out, Entries *make) {
    uint32_t told, len;
    uint8_t named[5] = {'D'};
    memcpy(named + 1, change, 4);
    const uint8_t *changes = map_get(&e->projected, named, sizeof named, &told);
    const MapItem *it = changes && told % 12 == 0 ? part_item(e, own) : NULL;
    if (!it || it->key_len / 4 > MAX_PART_ITEMS) return 0;
    size_t count = it->key_len / 4;
    uint8_t made[4 * MAX_PART_ITEMS];
    if (!changed_items(e->parts.bytes + it->key_at, count, changes, told, 0, made)) return 0;
    const uint8_t *known = map_get(&e->parts, made, 4 * count, &len);
    if (known && len >= 4) {
        memcpy(out, known, 4);
        return 1;
    }
    if (!make) return 0;
    /* A new part: its items as they are, the old part's with the change's (copied before
     * the map grows). */
    uint8_t objects[4 * MAX_PART_ITEMS];
    changed_items(e->parts.bytes + it->val_at + 4, count, changes, told, 1, objects);
    uint32_t number = (uint32_t)make->parts_count;
    if (number_part(make, made, objects, 4 * count) < 0) return -1;
    memcpy(out, &number, 4);
    return 1;
}

/* A template's steps and handover (`template_patches` of them) as patches of this tail,
 * at `out`: 1, or 0 when a fact they need is not kept, or -1 with an exception. Reads
 * the entries only, but with `make` (the table) numbers the parts its steps make. */
static int fill_patches(const Entries *e, const uint8_t *t, const uint8_t *tail, int others,
                        NPatch *out, Entries *make) {
    size_t made = template_patches(t);
    for (size_t i = 0; i < made; i++, out++) {
        const uint8_t *step = t + 6 + i * TEMPLATE_STEP;
        memset(out, 0, sizeof(NPatch));
        out->python = step[0];
        if (out->python) continue;
        memcpy(&out->number, step + 1, 4);
        memcpy(out->tail, step + 5, TAIL_SIZE);
        if (others) memcpy(out->tail, tail, 2); /* another's GIL stays so */
        memcpy(&out->via, step + 22, 4);
        for (int part = 0; part < 2; part++) {
            const uint8_t *change = step + 26 + 4 * part, *own = tail + 6 + 4 * part;
            uint8_t *after = out->tail + 6 + 4 * part;
            int32_t which;
            memcpy(&which, change, 4);
            if (which < 0) memcpy(after, own, 4);
            else {
                int changed = changed_part(e, own, change, after, make);
                if (changed <= 0) return changed;
            }
        }
    }
    return 1;
}

/* An entry from its template and the patches made of it (at the pool's end). */
static int keep_template(Entries *e, const uint8_t *tail, uint64_t tail_hash, size_t tid,
                         uint32_t number, const uint8_t *t) {
    NEntry it;
    if (entries_start(e, tail, tid, number, &it) < 0) return -1;
    entry_steps(&it, t, e->pool_len);
    e->pool_len += template_patches(t);
    entries_keep(e, tail_hash, &it);
    return 1;
}

static int derive_entry(Entries *e, const uint8_t *tail, uint64_t tail_hash, size_t tid,
                        uint32_t number) {
    int others;
    const uint8_t *t = find_template(e, tail, tid, number, &others);
    if (!t) return 0;
    size_t made = template_patches(t);
    if (reserve_items((void **)&e->pool, &e->pool_cap, e->pool_len + made, sizeof(NPatch)) < 0)
        return -1;
    int filled = fill_patches(e, t, tail, others, e->pool + e->pool_len, e);
    if (filled <= 0) return filled; /* nothing kept: the pool's end is not moved */
    return keep_template(e, tail, tail_hash, tid, number, t);
}

static PyMethodDef Entries_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Entries_add, METH_FASTCALL,
     "add(tail, tid, number, entry): a thread's step-table entry in a shared part"},
    {"clear", (PyCFunction)Entries_clear, METH_NOARGS,
     "clear(): forget every entry and every projected fact"},
    {"watch", (PyCFunction)(void (*)(void))Entries_watch, METH_FASTCALL,
     "watch(tail, tid, number, target): a thread that joins `target`"},
    {"has", (PyCFunction)(void (*)(void))Entries_has, METH_FASTCALL,
     "has(tail, tid, number): whether a thread has its entry in a shared part"},
    {"project", (PyCFunction)(void (*)(void))Entries_project, METH_FASTCALL,
     "project(key, value): a fact entries are derived from"},
    {"part", (PyCFunction)(void (*)(void))Entries_part, METH_FASTCALL,
     "part(number, items, objects): the next part's items, as compared and as they are"},
    {"parts_from", (PyCFunction)Entries_parts_from, METH_O,
     "parts_from(first): the items of the parts numbered from `first` on"},
    {"parts_known", (PyCFunction)Entries_parts_known, METH_NOARGS,
     "parts_known(): how many parts are numbered"},
    {"set_facts", (PyCFunction)(void (*)(void))Entries_set_facts, METH_FASTCALL,
     "set_facts(first, data): persistent-set facts of thread numbers, in order"},
    {"facts_told", (PyCFunction)Entries_facts_told, METH_NOARGS,
     "facts_told(): how many thread numbers have their persistent-set facts"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Entries_as_sequence = {
    .sq_length = (lenfunc)Entries_len,
};

static PyTypeObject EntriesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gilcheck.explore._records.Entries",
    .tp_basicsize = sizeof(Entries),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Entries(limit=no limit, keep_most=2**20): the step table's entries, by shared "
               "part, thread id and thread number.",
    .tp_new = Entries_new,
    .tp_dealloc = (destructor)Entries_dealloc,
    .tp_methods = Entries_methods,
    .tp_as_sequence = &Entries_as_sequence,
};

/* A growable buffer of int32 edges, handed to an array's frombytes at the end. */
typedef struct {
    int32_t *items;
    size_t len, cap;
} Ints;

static int ints_push(Ints *v, int32_t x) {
    if (v->len == v->cap && reserve_items((void **)&v->items, &v->cap, v->len + 1,
                                          sizeof(int32_t)) < 0)
        return -1;
    v->items[v->len++] = x;
    return 0;
}

static int ints_flush(Ints *v, PyObject *array) {
    if (array == Py_None || v->len == 0) return 0;
    PyObject *done = PyObject_CallMethod(array, "frombytes", "y#", (const char *)v->items,
                                         (Py_ssize_t)(v->len * sizeof(int32_t)));
    if (!done) return -1;
    Py_DECREF(done);
    return 0;
}

/* A successor being made: the patch and the thread it applies to. */
typedef struct Patch {
    const NPatch *patch;
    size_t tid;
} Patch;

/* Symmetry reduction of records (explore/symmetric_records.py is the reference): a map of
 * byte keys to byte values that Python fills with what each part of a representative
 * depends on, and `canon_record`, which reduces a record with it alone. Keys (all numbers
 * little-endian):
 *   'o' number(4)                          -> a thread's rank text without its `self`
 *   'R' array(1) kind(1) part(4)           -> per index: length(4) and the text its rank
 *        gives the vars (kind 0), locks (1) or channels (2) part; for channels, then the
 *        count(4) and texts of the places in their buffers that hold the index
 *   'p' array(1) thread id(4) number(4)    -> count(4), then per place: index(4), text
 *   'M' array(1) kind(1) part(4)           -> the part's support: the indexes (2 each) whose
 *        new places its permutation depends on
 *   'Q' array(1) kind(1) part(4) places(2 each: its support's new places) -> the moved part
 *   'U' array(1) number(4)                 -> a thread's support (2 each)
 *   'T' array(1) number(4) new self(4, -1 outside) places(2 each) -> the moved thread
 * A record whose parts are not all in the map is left to Python. */
typedef struct {
    uint32_t base, size;
    int outside;    /* other threads' locals hold indexes: the places they add */
    int others;     /* a permutation changes other threads too */
    int rotational; /* reduced by rotations alone */
    int copies;     /* ranks name the places of copies of the indexes */
    unsigned kinds; /* the parts ranks read: bit 0 vars, 1 locks, 2 channels */
    /* The 'U' and plain 'T' keys by thread number, looked up without hashing (Python
     * adds them between calls; worker copies only read them): a support's place in the
     * map (offset + 1, shifted 20 bits, then its length) or 0; and for a thread with no
     * support, its block of `moved` (block + 1, or 0), which holds per new `self` (-1
     * first) the number + 1 of the thread moved, or 0. */
    uint64_t *support;
    size_t support_cap;
    uint32_t *moved_at;
    size_t moved_at_cap;
    uint32_t *moved;
    size_t moved_cap, moved_blocks;
    /* The same for parts ('M' and plain 'Q' keys), by part number * 3 + kind. */
    uint64_t *part_support;
    size_t part_support_cap;
    uint32_t *part_moved;
    size_t part_moved_cap;
} CanonArray;

typedef struct {
    PyObject_HEAD
    ByteMap map;
    CanonArray *arrays;
    size_t n_arrays;
    uint8_t *key; /* scratch: a key being built */
    size_t key_cap;
    const uint8_t **own; /* scratch: each index's rank, in two parts: its own text, */
    uint32_t *own_len, *order, *numbers;
    size_t *rest_at, *rest_len; /* and the rest, composed in `text` */
    const uint8_t **holder;     /* the places of each other thread holding indexes */
    uint32_t *holder_len;
    uint16_t *position;
    size_t index_cap;
    uint8_t *text; /* scratch: the rests composed */
    size_t text_len, text_cap;
    uint8_t *image, *best_ranks; /* scratch for rotations */
    size_t image_cap, best_cap, best_len;
    /* Ranks as numbers (`canon_sort_keys`): each thread number's label, in the order of
     * the texts without `self` (0: not known yet), kept with the numbers sorted by text
     * as Python adds them (shared with worker copies, which only read them) */
    uint64_t *own_label;
    size_t own_label_cap;
    uint32_t *own_sorted;
    size_t own_count, own_sorted_cap;
    int ordered; /* every text without `self` seen is self-delimited: labels order ranks */
    /* scratch of each copy: per tail, the order of each index's rest of rank */
    uint8_t *rest_cache;
    size_t rest_stride;
    uint64_t *sort_key;
    uint32_t *rest_ord;
    uint32_t moved_plain; /* scratch: `moved_number`'s answer from the table by number */
    /* scratch: where `canon_record` last failed only for want of a moved part: the array's
     * number + 1, its permutation in `position` (0: it failed elsewhere, or did not) */
    size_t unmoved;
    /* A weak reference to Python's reduction of a record (`reduce_with`), which computes
     * the parts the map lacks and adds them: the C loop calls it where it runs alone,
     * rather than handing the state back. Weak, since the reduction holds the map: no
     * cycle keeps the search's store alive. (Copies share the pointer, never call it.) */
    PyObject *python;
} Canon;

static int canon_key_room(Canon *c, size_t len) {
    return raw_reserve((void **)&c->key, &c->key_cap, len, 1);
}

static PyObject *Canon_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *layout;
    if (!PyArg_ParseTuple(args, "O", &layout)) return NULL;
    PyObject *seq = PySequence_Fast(layout, "the layout is a sequence of arrays");
    if (!seq) return NULL;
    Canon *c = (Canon *)type->tp_alloc(type, 0);
    if (!c) {
        Py_DECREF(seq);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    c->arrays = PyMem_Calloc(n ? (size_t)n : 1, sizeof(CanonArray));
    if (!c->arrays) {
        PyErr_NoMemory();
        goto fail;
    }
    c->n_arrays = (size_t)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        CanonArray *a = &c->arrays[i];
        unsigned int base, size, kinds;
        int outside, others, rotational, copies;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "IIppppI", &base, &size, &outside,
                              &others, &rotational, &copies, &kinds))
            goto fail;
        if (size > 0xffff || n > 255 || kinds > 7) {
            PyErr_SetString(PyExc_ValueError, "too many arrays or threads for records");
            goto fail;
        }
        a->base = base;
        a->size = size;
        a->outside = outside;
        a->others = others;
        a->rotational = rotational;
        a->copies = copies;
        a->kinds = kinds;
    }
    Py_DECREF(seq);
    c->text = malloc(64); /* never NULL: ranks point into it */
    if (!c->text) {
        Py_DECREF(c);
        return PyErr_NoMemory();
    }
    c->text_cap = 64;
    c->ordered = 1;
    if (map_rehash(&c->map, 1024) < 0) {
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
fail:
    Py_DECREF(seq);
    Py_DECREF(c);
    return NULL;
}

static void canon_free(Canon *c) {
    free(c->own);
    free(c->own_len);
    free(c->order);
    free(c->numbers);
    free(c->position);
    free(c->rest_at);
    free(c->rest_len);
    free(c->holder);
    free(c->holder_len);
    free(c->sort_key);
    free(c->rest_ord);
    c->sort_key = NULL;
    c->rest_ord = NULL;
    c->rest_at = c->rest_len = NULL;
    c->holder = NULL;
    c->holder_len = NULL;
    c->own = NULL;
    c->own_len = c->order = c->numbers = NULL;
    c->position = NULL;
    c->index_cap = 0;
}

/* A map's scratch areas freed (the C library's: worker threads use them too). */
static void canon_scratch_free(Canon *c) {
    free(c->key);
    free(c->text);
    free(c->image);
    free(c->best_ranks);
    free(c->rest_cache);
    c->rest_cache = NULL;
    c->rest_stride = 0;
    canon_free(c);
}

static void Canon_dealloc(Canon *c) {
    Py_CLEAR(c->python);
    map_free(&c->map);
    for (size_t a = 0; c->arrays && a < c->n_arrays; a++) {
        PyMem_Free(c->arrays[a].support);
        PyMem_Free(c->arrays[a].moved);
        PyMem_Free(c->arrays[a].moved_at);
        PyMem_Free(c->arrays[a].part_support);
        PyMem_Free(c->arrays[a].part_moved);
    }
    PyMem_Free(c->arrays);
    PyMem_Free(c->own_label);
    PyMem_Free(c->own_sorted);
    canon_scratch_free(c);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static Py_ssize_t Canon_len(Canon *c) { return (Py_ssize_t)c->map.count; }

static int own_insert(Canon *c, uint32_t number);

/* Room for item `index` in a table by thread number (new items 0); -1 with an exception. */
static int dense_room(void **items, size_t *cap, size_t index, size_t size) {
    size_t old = *cap;
    if (index < old) return 0;
    if (reserve_items(items, cap, index + 1, size) < 0) return -1;
    memset((uint8_t *)*items + old * size, 0, (*cap - old) * size);
    return 0;
}

/* A support in the map, as the tables by number keep it: its value's offset + 1, shifted
 * 20 bits, then its length (at most 2 * 0xffff). */
static uint64_t support_place(const Canon *c, const uint8_t *value, uint32_t len) {
    return (uint64_t)(value - c->map.bytes + 1) << 20 | len;
}

/* The support a table by number keeps as `place` (not 0), and its length. */
static const uint8_t *placed_support(const Canon *c, uint64_t place, uint32_t *len) {
    *len = (uint32_t)(place & 0xfffff);
    return c->map.bytes + (place >> 20) - 1;
}

/* `value` kept at `table[at]` (a table by number, grown as needed): -1 with an exception. */
static int keep_at(uint64_t **table, size_t *cap, size_t at, uint64_t value) {
    if (dense_room((void **)table, cap, at, sizeof(uint64_t)) < 0) return -1;
    (*table)[at] = value;
    return 0;
}

/* A moved thread's or part's number + 1 kept at `table[at]`: -1 with an exception. */
static int keep_moved_at(uint32_t **table, size_t *cap, size_t at, const uint8_t *value) {
    uint32_t moved;
    memcpy(&moved, value, 4);
    if (moved == UINT32_MAX) return 0; /* (no room for its + 1: looked up in the map) */
    if (dense_room((void **)table, cap, at, sizeof(uint32_t)) < 0) return -1;
    (*table)[at] = moved + 1;
    return 0;
}

/* A 'U', 'M', plain 'T' or plain 'Q' key just added, also kept by thread or part number.
 * -1 with an exception. */
static int canon_dense(Canon *c, const uint8_t *key, size_t len) {
    if (len < 2 || key[1] >= c->n_arrays) return 0;
    CanonArray *arr = &c->arrays[key[1]];
    uint32_t number, vlen;
    memcpy(&number, key + 2, 4);
    const uint8_t *value = map_get(&c->map, key, len, &vlen);
    if (!value) return 0;
    if ((key[0] == 'M' || key[0] == 'Q') && len == 7) {
        if (key[2] > 2) return 0;
        memcpy(&number, key + 3, 4);
        size_t at = (size_t)number * 3 + key[2];
        if (key[0] == 'M')
            return keep_at(&arr->part_support, &arr->part_support_cap, at,
                           support_place(c, value, vlen));
        return vlen == 4 ? keep_moved_at(&arr->part_moved, &arr->part_moved_cap, at, value) : 0;
    }
    if (key[0] == 'U' && len == 6)
        return keep_at(&arr->support, &arr->support_cap, number, support_place(c, value, vlen));
    if (key[0] == 'T' && len == 10 && vlen == 4) {
        int32_t self;
        memcpy(&self, key + 6, 4);
        if (self < -1 || self >= (int32_t)arr->size) return 0;
        if (dense_room((void **)&arr->moved_at, &arr->moved_at_cap, number, sizeof(uint32_t)) <
            0)
            return -1;
        uint32_t block = arr->moved_at[number];
        if (!block) { /* (a block only for the numbers moved: numbers are global) */
            if (arr->moved_blocks >= UINT32_MAX - 1) return 0;
            size_t last = (arr->moved_blocks + 1) * (arr->size + 1) - 1;
            if (dense_room((void **)&arr->moved, &arr->moved_cap, last, sizeof(uint32_t)) < 0)
                return -1;
            block = (uint32_t)++arr->moved_blocks;
            arr->moved_at[number] = block;
        }
        return keep_moved_at(&arr->moved, &arr->moved_cap,
                             (size_t)(block - 1) * (arr->size + 1) + (size_t)(self + 1), value);
    }
    return 0;
}

/* add(key, value): keep a part of a representative (the same key twice: the first stays). */
static PyObject *Canon_add(Canon *c, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *done = map_put_args(&c->map, args, nargs, "add(key: bytes, value: bytes)");
    if (!done) return NULL;
    const uint8_t *key = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    size_t len = (size_t)PyBytes_GET_SIZE(args[0]);
    int failed = 0;
    if (len == 5 && key[0] == 'o') {
        uint32_t number;
        memcpy(&number, key + 1, 4);
        failed = own_insert(c, number) < 0;
    } else if ((len == 6 && key[0] == 'U') || (len == 10 && key[0] == 'T') ||
               (len == 7 && (key[0] == 'M' || key[0] == 'Q'))) {
        failed = canon_dense(c, key, len) < 0;
    }
    if (failed) {
        Py_DECREF(done);
        return NULL;
    }
    return done;
}

/* reduce_with(python): the callable (record -> representative's record) the C loop calls
 * where it runs alone for a record whose parts the map lacks, kept by a weak reference;
 * None: hand the state back. */
static PyObject *Canon_reduce_with(Canon *c, PyObject *python) {
    if (python != Py_None && !PyCallable_Check(python)) {
        PyErr_SetString(PyExc_TypeError, "reduce_with(python: callable | None)");
        return NULL;
    }
    PyObject *ref = python == Py_None ? NULL : PyWeakref_NewRef(python, NULL);
    if (python != Py_None && !ref) return NULL;
    Py_XSETREF(c->python, ref);
    Py_RETURN_NONE;
}

static PyObject *Canon_clear(Canon *c, PyObject *unused) {
    if (map_clear(&c->map) < 0) return NULL;
    if (c->own_label) memset(c->own_label, 0, c->own_label_cap * sizeof(uint64_t));
    c->own_count = 0;
    c->ordered = 1;
    for (size_t a = 0; a < c->n_arrays; a++) {
        CanonArray *arr = &c->arrays[a];
        if (arr->support) memset(arr->support, 0, arr->support_cap * sizeof(uint64_t));
        if (arr->moved) memset(arr->moved, 0, arr->moved_cap * sizeof(uint32_t));
        if (arr->moved_at) memset(arr->moved_at, 0, arr->moved_at_cap * sizeof(uint32_t));
        arr->moved_blocks = 0;
        if (arr->part_support)
            memset(arr->part_support, 0, arr->part_support_cap * sizeof(uint64_t));
        if (arr->part_moved) memset(arr->part_moved, 0, arr->part_moved_cap * sizeof(uint32_t));
    }
    Py_RETURN_NONE;
}

/* Whether index i's rank sorts after index j's, as texts: each rank's two parts (its own
 * text, the rest) compared as if joined. */
static int rank_after(const Canon *c, size_t i, size_t j) {
    const uint8_t *a[2] = {c->own[i], c->text + c->rest_at[i]};
    const uint8_t *b[2] = {c->own[j], c->text + c->rest_at[j]};
    size_t la[2] = {c->own_len[i], c->rest_len[i]};
    size_t lb[2] = {c->own_len[j], c->rest_len[j]};
    size_t pa = 0, pb = 0, ia = 0, ib = 0;
    for (;;) {
        while (pa < 2 && ia == la[pa]) pa++, ia = 0;
        while (pb < 2 && ib == lb[pb]) pb++, ib = 0;
        if (pa == 2 || pb == 2) return pa != 2; /* the longer one sorts after */
        uint8_t x = a[pa][ia++], y = b[pb][ib++];
        if (x != y) return x > y;
    }
}

static int canon_text(Canon *c, const void *data, size_t len) {
    if (raw_reserve((void **)&c->text, &c->text_cap, c->text_len + len, 1) < 0) return -1;
    memcpy(c->text + c->text_len, data, len);
    c->text_len += len;
    return 0;
}

/* A length-prefixed text at `*at` of a value `len` long: its bytes and length, or NULL. */
static const uint8_t *value_text(const uint8_t *value, uint32_t len, size_t *at, uint32_t *n) {
    if (*at + 4 > len) return NULL;
    memcpy(n, value + *at, 4);
    if (*at + 4 + *n > len) return NULL;
    const uint8_t *text = value + *at + 4;
    *at += 4 + *n;
    return text;
}

/* One item of a tuple's text being composed in c->text (", " before all but the first). */
static int canon_item(Canon *c, size_t *items, const uint8_t *item, uint32_t len) {
    if ((*items)++ && canon_text(c, ", ", 2) < 0) return -1;
    return canon_text(c, item, len);
}

/* The rest of each of array `a`'s ranks (after its own text) for the shared part `tail`,
 * composed in c->text: the GIL and stdout holders, the texts of the parts (the 'R' keys),
 * then where the ranks name them the places of copies (in channels, then in the other
 * threads of the record `rec`, n threads). 1, 0 when a part is unknown, or -1 out of
 * memory. */
static int canon_rests(Canon *c, size_t a, const uint8_t *rec, size_t n, const uint8_t *tail) {
    const CanonArray *arr = &c->arrays[a];
    static const int rank_order[3] = {1, 0, 2}; /* locks, vars, channels: as ranks name them */
    size_t size = arr->size, base = arr->base, holders = 0;
    const uint8_t *value[3];
    uint32_t vlen[3];
    size_t at[3] = {0, 0, 0};
    uint8_t rkey[7];
    rkey[0] = 'R';
    rkey[1] = (uint8_t)a;
    for (int i = 0; i < 3; i++) {
        int kind = rank_order[i];
        value[i] = NULL;
        if (!(arr->kinds >> kind & 1)) continue;
        rkey[2] = (uint8_t)kind;
        memcpy(rkey + 3, tail + 2 + 4 * kind, 4);
        value[i] = map_get(&c->map, rkey, sizeof rkey, &vlen[i]);
        if (!value[i]) return 0;
    }
    if (arr->outside) {
        /* The other threads whose locals hold indexes: their places, looked up once. */
        uint8_t pkey[10];
        pkey[0] = 'p';
        pkey[1] = (uint8_t)a;
        for (size_t tid = 0; tid < n; tid++) {
            if (tid >= base && tid < base + size) continue;
            uint32_t tid32 = (uint32_t)tid, plen, pcount;
            memcpy(pkey + 2, &tid32, 4);
            memcpy(pkey + 6, rec + 2 + 4 * tid, 4);
            const uint8_t *places = map_get(&c->map, pkey, 10, &plen);
            if (!places || plen < 4) return 0;
            memcpy(&pcount, places, 4);
            if (!pcount) continue;
            c->holder[holders] = places;
            c->holder_len[holders++] = plen;
        }
    }
    size_t gil = (size_t)(tail[0] | tail[1] << 8), out = (size_t)(tail[14] | tail[15] << 8);
    c->text_len = 0;
    for (size_t k = 0; k < size; k++) {
        size_t begin = c->text_len, items = 0;
        uint8_t holders_text[6] = {',', ' ', '0', ',', ' ', '0'}; /* (holders are id + 1) */
        if (gil == base + k + 1) holders_text[2] = '1';
        if (out == base + k + 1) holders_text[5] = '1';
        if (canon_text(c, holders_text, sizeof holders_text) < 0) return -1;
        for (int i = 0; i < 3; i++) {
            uint32_t len;
            if (!value[i]) continue;
            const uint8_t *text = value_text(value[i], vlen[i], &at[i], &len);
            if (!text) return 0;
            if (canon_text(c, text, len) < 0) return -1;
        }
        if (arr->copies && canon_text(c, ", (", 3) < 0) return -1;
        if (value[2]) { /* the places in channel buffers */
            uint32_t count, len;
            if (at[2] + 4 > vlen[2]) return 0;
            memcpy(&count, value[2] + at[2], 4);
            at[2] += 4;
            for (uint32_t i = 0; i < count; i++) {
                const uint8_t *item = value_text(value[2], vlen[2], &at[2], &len);
                if (!item) return 0;
                if (arr->copies && canon_item(c, &items, item, len) < 0) return -1;
            }
        }
        for (size_t h = 0; h < holders; h++) { /* the places in other threads, by id */
            const uint8_t *places = c->holder[h];
            uint32_t plen = c->holder_len[h], pcount, len;
            memcpy(&pcount, places, 4);
            size_t pat = 4;
            for (uint32_t i = 0; i < pcount; i++) {
                uint32_t index;
                if (pat + 4 > plen) return 0;
                memcpy(&index, places + pat, 4);
                pat += 4;
                const uint8_t *item = value_text(places, plen, &pat, &len);
                if (!item) return 0;
                if (index == k && canon_item(c, &items, item, len) < 0) return -1;
            }
        }
        if (arr->copies && ((items == 1 && canon_text(c, ",", 1) < 0) || canon_text(c, ")", 1) < 0))
            return -1;
        if (canon_text(c, ")", 1) < 0) return -1;
        c->rest_at[k] = begin;
        c->rest_len[k] = c->text_len - begin;
    }
    return 1;
}

/* Room for `count` indexes in the per-index scratch arrays. */
static int canon_room(Canon *c, size_t count) {
    if (count <= c->index_cap) return 0;
    size_t cap = count * 2;
    canon_free(c);
    c->own = malloc(cap * sizeof(uint8_t *));
    c->own_len = malloc(cap * sizeof(uint32_t));
    c->order = malloc(cap * sizeof(uint32_t));
    c->numbers = malloc(cap * sizeof(uint32_t));
    c->position = malloc(cap * sizeof(uint16_t));
    c->rest_at = malloc(cap * sizeof(size_t));
    c->rest_len = malloc(cap * sizeof(size_t));
    c->holder = malloc(cap * sizeof(uint8_t *));
    c->holder_len = malloc(cap * sizeof(uint32_t));
    c->sort_key = malloc(cap * sizeof(uint64_t));
    c->rest_ord = malloc(cap * sizeof(uint32_t));
    if (!c->own || !c->own_len || !c->order || !c->numbers || !c->position || !c->rest_at ||
        !c->rest_len || !c->holder || !c->holder_len || !c->sort_key || !c->rest_ord) {
        canon_free(c);
        return -1;
    }
    c->index_cap = cap;
    return 0;
}

/* Each of array `a`'s threads' rank in the record (n threads, its shared part at `cut`),
 * in two parts (`own`, the rest in `text`): 1, 0 when a part is unknown, or -1 out of
 * memory. */
static int canon_ranks(Canon *c, size_t a, const uint8_t *rec, size_t n, size_t cut) {
    const CanonArray *arr = &c->arrays[a];
    int found = canon_rests(c, a, rec, n, rec + cut);
    if (found <= 0) return found;
    uint8_t okey[5];
    uint32_t vlen;
    okey[0] = 'o';
    for (size_t k = 0; k < arr->size; k++) {
        memcpy(okey + 1, rec + 2 + 4 * (arr->base + k), 4);
        const uint8_t *own = map_get(&c->map, okey, 5, &vlen);
        if (!own) return 0;
        c->own[k] = own;
        c->own_len[k] = vlen;
    }
    return 1;
}

/* The new places (c->position) of a support (`support`, `count` indexes of 2 bytes),
 * written at `out`. */
static void support_places(const Canon *c, const uint8_t *support, uint32_t count,
                           uint8_t *out) {
    for (uint32_t i = 0; i < count; i++) {
        uint16_t index;
        memcpy(&index, support + 2 * i, 2);
        memcpy(out + 2 * i, &c->position[index], 2);
    }
}

/* A support's value checked against the array's size: its count of indexes, or -1. */
static int64_t support_count(const uint8_t *support, uint32_t len, size_t size) {
    if (len % 2) return -1;
    for (uint32_t i = 0; i < len; i += 2) {
        uint16_t index;
        memcpy(&index, support + i, 2);
        if (index >= size) return -1;
    }
    return len / 2;
}

/* `out`: the shared part `tail` with array `a`'s permutation c->position applied: its vars,
 * locks and channels parts each by the new places of its support, the GIL and stdout
 * holders moved here. 1, 0 when a part is unknown, or -1 out of memory. */
static int canon_move_tail(Canon *c, size_t a, const uint8_t *tail, uint8_t *out) {
    const CanonArray *arr = &c->arrays[a];
    size_t base = arr->base, size = arr->size;
    if (canon_key_room(c, 7 + 2 * size) < 0) return -1;
    uint8_t *key = c->key, moved[TAIL_SIZE];
    uint32_t vlen;
    memcpy(moved, tail, TAIL_SIZE);
    key[1] = (uint8_t)a;
    for (int kind = 0; kind < 3; kind++) {
        uint32_t number;
        memcpy(&number, tail + 2 + 4 * kind, 4);
        size_t at = (size_t)number * 3 + (size_t)kind;
        const uint8_t *support;
        key[2] = (uint8_t)kind;
        memcpy(key + 3, &number, 4);
        if (at < arr->part_support_cap && arr->part_support[at]) { /* by number: no hashing */
            support = placed_support(c, arr->part_support[at], &vlen);
            if (vlen == 0 && at < arr->part_moved_cap && arr->part_moved[at]) {
                uint32_t part = arr->part_moved[at] - 1;
                memcpy(moved + 2 + 4 * kind, &part, 4);
                continue;
            }
        } else {
            key[0] = 'M';
            support = map_get(&c->map, key, 7, &vlen);
        }
        if (!support) return 0;
        int64_t count = support_count(support, vlen, size);
        if (count < 0) return 0;
        key[0] = 'Q';
        support_places(c, support, (uint32_t)count, key + 7);
        const uint8_t *part = map_get(&c->map, key, 7 + 2 * (size_t)count, &vlen);
        if (!part || vlen != 4) return 0;
        memcpy(moved + 2 + 4 * kind, part, 4);
    }
    for (int at = 0; at <= 14; at += 14) { /* the GIL's holder + 1, stdout's + 1 */
        size_t holder = (size_t)(tail[at] | tail[at + 1] << 8);
        if (holder > base && holder <= base + size) {
            holder = base + c->position[holder - 1 - base] + 1;
            moved[at] = (uint8_t)holder;
            moved[at + 1] = (uint8_t)(holder >> 8);
        }
    }
    memcpy(out, moved, TAIL_SIZE);
    return 1;
}

/* A thread's number once moved by array `a`'s permutation c->position, with its new `self`
 * (-1: outside the array), by the new places of its support; NULL: not in the map. */
static const uint8_t *moved_number(Canon *c, size_t a, uint32_t number, int32_t self) {
    const CanonArray *arr = &c->arrays[a];
    size_t size = arr->size;
    uint32_t vlen;
    const uint8_t *support = NULL;
    if (number < arr->support_cap && arr->support[number]) {
        support = placed_support(c, arr->support[number], &vlen);
        if (vlen == 0) { /* no support: the moved thread by its new `self` alone */
            uint32_t block = number < arr->moved_at_cap ? arr->moved_at[number] : 0;
            size_t at = (size_t)(block - 1) * (size + 1) + (size_t)(self + 1);
            if (block && arr->moved[at]) {
                c->moved_plain = arr->moved[at] - 1;
                return (const uint8_t *)&c->moved_plain;
            }
        }
    } else {
        uint8_t ukey[6];
        ukey[0] = 'U';
        ukey[1] = (uint8_t)a;
        memcpy(ukey + 2, &number, 4);
        support = map_get(&c->map, ukey, sizeof ukey, &vlen);
    }
    if (!support) return NULL;
    int64_t count = support_count(support, vlen, size);
    if (count < 0) return NULL;
    uint8_t *key = c->key; /* (room for 10 + 2 * size: canon_move's) */
    key[0] = 'T';
    key[1] = (uint8_t)a;
    memcpy(key + 2, &number, 4);
    memcpy(key + 6, &self, 4);
    support_places(c, support, (uint32_t)count, key + 10);
    const uint8_t *moved = map_get(&c->map, key, 10 + 2 * (size_t)count, &vlen);
    return moved && vlen == 4 ? moved : NULL;
}

/* `out` (len bytes): the record `rec` with array `a`'s thread at index i moved to index
 * c->position[i], with everything that moves with it: 1, 0 when a part is unknown, or -1
 * out of memory. `out` and `rec` may be the same. */
static int canon_move(Canon *c, size_t a, const uint8_t *rec, uint8_t *out, size_t n,
                      size_t cut) {
    const CanonArray *arr = &c->arrays[a];
    size_t base = arr->base, size = arr->size;
    const uint8_t *tail = rec + cut;
    uint8_t moved_tail[TAIL_SIZE];
    int found = canon_move_tail(c, a, tail, moved_tail);
    if (found <= 0) return found;
    if (canon_key_room(c, 10 + 2 * size) < 0) return -1;
    for (size_t tid = 0; tid < n; tid++) {
        uint32_t number;
        memcpy(&number, rec + 2 + 4 * tid, 4);
        int32_t self = -1;
        size_t to = tid;
        if (tid >= base && tid < base + size) {
            self = c->position[tid - base];
            to = base + (size_t)self;
        } else if (!arr->others) {
            c->numbers[tid] = number;
            continue;
        }
        const uint8_t *moved = moved_number(c, a, number, self);
        if (!moved) return 0;
        memcpy(&c->numbers[to], moved, 4);
    }
    if (out != rec) memcpy(out, rec, 2);
    memcpy(out + 2, c->numbers, 4 * n);
    memcpy(out + cut, moved_tail, TAIL_SIZE);
    return 1;
}

/* The ranks found last (`canon_ranks`) end to end in `buf`, each ended by a 0 byte (which
 * no rank text holds): two such are ordered as the lists of ranks are. */
static int canon_flatten(Canon *c, size_t size, uint8_t **buf, size_t *len, size_t *cap) {
    size_t need = 0;
    for (size_t k = 0; k < size; k++) need += c->own_len[k] + c->rest_len[k] + 1;
    if (raw_reserve((void **)buf, cap, need, 1) < 0) return -1;
    uint8_t *p = *buf;
    for (size_t k = 0; k < size; k++) {
        memcpy(p, c->own[k], c->own_len[k]);
        p += c->own_len[k];
        memcpy(p, c->text + c->rest_at[k], c->rest_len[k]);
        p += c->rest_len[k];
        *p++ = 0;
    }
    *len = need;
    return 0;
}

/* How index k's rank (its two parts, then a 0 byte) compares with the rank at `*at` in
 * `ranks` (ended by a 0 byte, which it passes): -1, 0 or 1. */
static int rank_against(const Canon *c, size_t k, const uint8_t *ranks, size_t *at) {
    const uint8_t *part[2] = {c->own[k], c->text + c->rest_at[k]};
    size_t len[2] = {c->own_len[k], c->rest_len[k]};
    size_t i = *at;
    for (int p = 0; p < 2; p++) {
        for (size_t j = 0; j < len[p]; j++, i++) {
            if (part[p][j] != ranks[i]) return part[p][j] < ranks[i] ? -1 : 1;
        }
    }
    if (ranks[i] != 0) return -1; /* a proper prefix of the other rank */
    *at = i + 1;
    return 0;
}

/* An array reduced by rotations: `rec` becomes the image, among its N rotations, with the
 * least list of ranks (the first such rotation on a tie). A rotation is compared rank by
 * rank as its image's threads are looked up, and made whole only when it is less. */
static int canon_rotate(Canon *c, size_t a, uint8_t *rec, size_t len, size_t n, size_t cut) {
    const CanonArray *arr = &c->arrays[a];
    size_t size = arr->size, base = arr->base;
    if (raw_reserve((void **)&c->image, &c->image_cap, 2 * len, 1) < 0) return -1;
    uint8_t *image = c->image, *best = c->image + len;
    memcpy(best, rec, len);
    int found = canon_ranks(c, a, rec, n, cut);
    if (found <= 0) return found;
    if (canon_flatten(c, size, &c->best_ranks, &c->best_len, &c->best_cap) < 0) return -1;
    for (size_t r = 1; r < size; r++) {
        for (size_t i = 0; i < size; i++) c->position[i] = (uint16_t)((i + r) % size);
        int order = 0;
        if (arr->others || arr->outside) { /* other threads move too: the whole image */
            found = canon_move(c, a, rec, image, n, cut);
            if (found > 0) found = canon_ranks(c, a, image, n, cut);
            if (found <= 0) return found;
            size_t at = 0;
            for (size_t k = 0; k < size && !order; k++)
                order = rank_against(c, k, c->best_ranks, &at);
        } else {
            /* The image's shared part, then its ranks one index at a time. */
            found = canon_move_tail(c, a, rec + cut, image + cut);
            if (found <= 0) return found;
            found = canon_rests(c, a, rec, n, image + cut);
            if (found <= 0) return found;
            if (canon_key_room(c, 10 + 2 * size) < 0) return -1;
            uint8_t okey[5];
            uint32_t vlen;
            okey[0] = 'o';
            size_t at = 0;
            for (size_t k = 0; k < size && !order; k++) {
                size_t old = (k + size - r) % size;
                uint32_t number;
                memcpy(&number, rec + 2 + 4 * (base + old), 4);
                const uint8_t *moved = moved_number(c, a, number, (int32_t)k);
                if (!moved) return 0;
                memcpy(okey + 1, moved, 4);
                const uint8_t *own = map_get(&c->map, okey, 5, &vlen);
                if (!own) return 0;
                c->own[k] = own;
                c->own_len[k] = vlen;
                order = rank_against(c, k, c->best_ranks, &at);
            }
            if (order < 0) { /* less: the whole image, and all its ranks */
                found = canon_move(c, a, rec, image, n, cut);
                if (found > 0) found = canon_ranks(c, a, image, n, cut);
                if (found <= 0) return found;
            }
        }
        if (order < 0) {
            memcpy(best, image, len);
            if (canon_flatten(c, size, &c->best_ranks, &c->best_len, &c->best_cap) < 0)
                return -1;
        }
    }
    memcpy(rec, best, len);
    return 1;
}

/* Ranks as numbers. A rank is the text of the thread without its `self`, then the rest
 * (`canon_rests`). When no such text is a proper prefix of another, ranks order as the
 * pairs (text, rest) do: the texts' order is kept as a label per thread number
 * (`own_insert`, as Python adds each text), and the rests' order per shared part in a
 * small cache of each copy (`canon_rest_order`), so that sorting compares numbers. A text
 * that is not self-delimited, or too many texts, turn the labels off for good (until
 * `clear`): ranks are then compared as texts (`rank_after`). */
#define OWN_GAP ((uint64_t)1 << 24)
#define OWN_LIMIT ((size_t)1 << 16) /* (an insertion moves the texts after it) */
#define REST_SLOTS ((size_t)1 << 14)
#define REST_KEY 118 /* array(1), tail, then the places other threads add to ranks */
#define REST_AT (8 + 1 + REST_KEY + 1) /* hash, key length, key, then the orders */

/* Whether a text closes its first bracket at its last byte and not before (outside its
 * string literals): a scan from the left decides it, so of two such texts neither is a
 * proper prefix of the other. */
static int self_delimited(const uint8_t *t, size_t len) {
    if (len < 2 || t[0] != '(') return 0;
    size_t depth = 0;
    uint8_t quote = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = t[i];
        if (quote) {
            if (ch == '\\')
                i++;
            else if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '(' || ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ')' || ch == ']' || ch == '}') {
            if (depth == 0) return 0;
            if (--depth == 0) return i == len - 1;
        }
    }
    return 0;
}

static int text_order(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    int d = memcmp(a, b, la < lb ? la : lb);
    if (d) return d < 0 ? -1 : 1;
    return la < lb ? -1 : la > lb;
}

static const uint8_t *own_text(const Canon *c, uint32_t number, uint32_t *len) {
    uint8_t okey[5];
    okey[0] = 'o';
    memcpy(okey + 1, &number, 4);
    return map_get(&c->map, okey, sizeof okey, len);
}

/* Labels spread evenly again, in the texts' order (equal texts alike). Equal texts are
 * those with equal labels: distinct texts always get distinct ones, and the text being
 * added (label 0) equals none of the others. */
static void own_relabel(Canon *c) {
    uint64_t label = OWN_GAP, previous = 0;
    for (size_t i = 0; i < c->own_count; i++) {
        uint32_t number = c->own_sorted[i];
        uint64_t old = c->own_label[number];
        if (i > 0 && (old == 0 || old != previous)) label += OWN_GAP;
        c->own_label[number] = label;
        previous = old;
    }
}

/* Thread number `number`'s text without `self` was added to the map: its label, between
 * those of its neighbours in the texts' order. -1 with an exception. */
static int own_insert(Canon *c, uint32_t number) {
    uint32_t len;
    if (!c->ordered || (number < c->own_label_cap && c->own_label[number])) return 0;
    const uint8_t *text = own_text(c, number, &len);
    if (!text || !self_delimited(text, len) || c->own_count >= OWN_LIMIT) {
        c->ordered = 0;
        return 0;
    }
    if (number >= c->own_label_cap) {
        size_t cap = c->own_label_cap;
        if (reserve_items((void **)&c->own_label, &c->own_label_cap, (size_t)number + 1,
                          sizeof(uint64_t)) < 0)
            return -1;
        memset(c->own_label + cap, 0, (c->own_label_cap - cap) * sizeof(uint64_t));
    }
    if (reserve_items((void **)&c->own_sorted, &c->own_sorted_cap, c->own_count + 1,
                      sizeof(uint32_t)) < 0)
        return -1;
    size_t lo = 0, hi = c->own_count; /* the first text after this one */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t mid_len;
        const uint8_t *mid_text = own_text(c, c->own_sorted[mid], &mid_len);
        if (text_order(mid_text, mid_len, text, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(c->own_sorted + lo + 1, c->own_sorted + lo, (c->own_count - lo) * sizeof(uint32_t));
    c->own_sorted[lo] = number;
    c->own_count++;
    uint64_t below = 0, above;
    if (lo > 0) {
        uint32_t prev = c->own_sorted[lo - 1], prev_len;
        const uint8_t *prev_text = own_text(c, prev, &prev_len);
        below = c->own_label[prev];
        if (text_order(prev_text, prev_len, text, len) == 0) {
            c->own_label[number] = below;
            return 0;
        }
    }
    above = lo + 1 < c->own_count ? c->own_label[c->own_sorted[lo + 1]] : below + 2 * OWN_GAP;
    if (above - below >= 2)
        c->own_label[number] = below + (above - below) / 2;
    else
        own_relabel(c);
    return 0;
}

/* Each index's order (c->rest_ord) among array `a`'s rests of rank in the record `rec` (n
 * threads, its shared part `tail`; equal rests alike): 1, 0 when a part is unknown, or -1
 * out of memory. The rests depend on the shared part and, when other threads' locals hold
 * indexes, on those threads: the copy's cache keeps them by these. */
static int canon_rest_order(Canon *c, size_t a, const uint8_t *rec, size_t n,
                            const uint8_t *tail) {
    const CanonArray *arr = &c->arrays[a];
    size_t size = arr->size;
    if (!c->rest_stride) { /* the copy's cache, made at first use (none for big arrays) */
        size_t largest = 0;
        for (size_t i = 0; i < c->n_arrays; i++)
            if (c->arrays[i].size > largest) largest = c->arrays[i].size;
        c->rest_stride = (size_t)-1;
        if (largest <= 64) {
            size_t stride = (REST_AT + 4 * largest + 7) & ~(size_t)7;
            c->rest_cache = calloc(REST_SLOTS, stride);
            if (c->rest_cache) c->rest_stride = stride;
        }
    }
    uint8_t key[REST_KEY];
    size_t key_len = 1 + TAIL_SIZE;
    key[0] = (uint8_t)a;
    memcpy(key + 1, tail, TAIL_SIZE);
    if (arr->outside) { /* what each other thread holding indexes adds ('p' keys) */
        uint8_t pkey[10];
        pkey[0] = 'p';
        pkey[1] = (uint8_t)a;
        for (size_t tid = 0; tid < n && key_len; tid++) {
            if (tid >= arr->base && tid < arr->base + size) continue;
            uint32_t tid32 = (uint32_t)tid, plen;
            memcpy(pkey + 2, &tid32, 4);
            memcpy(pkey + 6, rec + 2 + 4 * tid, 4);
            const uint8_t *places = map_get(&c->map, pkey, sizeof pkey, &plen);
            if (!places) return 0;
            if (plen <= 4) continue; /* (none: a count of 0) */
            if (key_len + 2 + plen > REST_KEY) {
                key_len = 0; /* too long: no cache */
                break;
            }
            key[key_len++] = (uint8_t)tid;
            key[key_len++] = (uint8_t)(tid >> 8);
            memcpy(key + key_len, places, plen);
            key_len += plen;
        }
    }
    uint64_t hash = key_len ? hash_record(key, key_len) | 1 : 0; /* (0: an empty slot) */
    uint8_t *slot = NULL;
    if (c->rest_cache && key_len) {
        slot = c->rest_cache + ((hash >> 32) & (REST_SLOTS - 1)) * c->rest_stride;
        uint64_t known;
        memcpy(&known, slot, 8);
        if (known == hash && slot[8] == key_len && memcmp(slot + 9, key, key_len) == 0) {
            memcpy(c->rest_ord, slot + REST_AT, 4 * size);
            return 1;
        }
    }
    int found = canon_rests(c, a, rec, n, tail);
    if (found <= 0) return found;
    uint32_t *order = c->order;
    for (size_t k = 0; k < size; k++) { /* indexes by rest: an insertion sort */
        size_t i = k;
        while (i > 0 && text_order(c->text + c->rest_at[order[i - 1]], c->rest_len[order[i - 1]],
                                   c->text + c->rest_at[k], c->rest_len[k]) > 0) {
            order[i] = order[i - 1];
            i--;
        }
        order[i] = (uint32_t)k;
    }
    for (size_t i = 0; i < size; i++) {
        uint32_t k = order[i], j = i ? order[i - 1] : 0;
        c->rest_ord[k] = i == 0 ? 0
                         : c->rest_ord[j] + (text_order(c->text + c->rest_at[j], c->rest_len[j],
                                                        c->text + c->rest_at[k], c->rest_len[k]) != 0);
    }
    if (slot) {
        memcpy(slot, &hash, 8);
        slot[8] = (uint8_t)key_len;
        memcpy(slot + 9, key, key_len);
        memcpy(slot + REST_AT, c->rest_ord, 4 * size);
    }
    return 1;
}

/* Each of array `a`'s threads' rank in the record as a number (c->sort_key: its text's
 * label, then its rest's order): 1, 0 when a part is unknown, or -1 out of memory. */
static int canon_sort_keys(Canon *c, size_t a, const uint8_t *rec, size_t n, size_t cut) {
    const CanonArray *arr = &c->arrays[a];
    for (size_t k = 0; k < arr->size; k++) {
        uint32_t number;
        memcpy(&number, rec + 2 + 4 * (arr->base + k), 4);
        uint64_t label = number < c->own_label_cap ? c->own_label[number] : 0;
        if (!label) return 0;
        c->sort_key[k] = label << 16;
    }
    int found = canon_rest_order(c, a, rec, n, rec + cut);
    if (found <= 0) return found;
    for (size_t k = 0; k < arr->size; k++) c->sort_key[k] |= c->rest_ord[k];
    return 1;
}

/* The representative of the record `rec` (len bytes), in place: 1, or 0 when a part is not
 * in the map (the record may then be changed: callers keep a copy), or -1 out of memory
 * (no exception: worker threads run it). It reads the map and writes only `c`'s scratch
 * areas, so threads each reduce with their own copy of `c` (`canon_copy`). */
static int canon_record(Canon *c, uint8_t *rec, size_t len) {
    c->unmoved = 0;
    if (len < 2) return 0;
    size_t n = (size_t)rec[0] | (size_t)rec[1] << 8, cut = 2 + 4 * n;
    if (len != cut + TAIL_SIZE) return 0; /* run-time objects: Python's */
    for (size_t a = 0; a < c->n_arrays; a++) {
        const CanonArray *arr = &c->arrays[a];
        size_t size = arr->size;
        if (arr->base + size > n) return 0;
        if (canon_room(c, n > size ? n : size) < 0) return -1;
        int found;
        if (arr->rotational) {
            found = canon_rotate(c, a, rec, len, n, cut);
            if (found <= 0) return found;
            continue;
        }
        if (c->ordered && size <= 0xffff) { /* ranks as numbers */
            found = canon_sort_keys(c, a, rec, n, cut);
            if (found <= 0) return found;
            const uint64_t *key = c->sort_key;
            int sorted = 1;
            for (size_t k = 1; k < size && sorted; k++)
                if (key[k - 1] > key[k]) sorted = 0;
            if (sorted) continue;
            for (size_t k = 0; k < size; k++) { /* a stable sort of the indexes by rank */
                size_t i = k;
                while (i > 0 && key[c->order[i - 1]] > key[k]) {
                    c->order[i] = c->order[i - 1];
                    i--;
                }
                c->order[i] = (uint32_t)k;
            }
        } else {
            found = canon_ranks(c, a, rec, n, cut);
            if (found <= 0) return found;
            int sorted = 1;
            for (size_t k = 1; k < size && sorted; k++)
                if (rank_after(c, k - 1, k)) sorted = 0;
            if (sorted) continue;
            /* A stable sort of the indexes by rank; position[old] = new. */
            for (size_t k = 0; k < size; k++) {
                uint32_t x = (uint32_t)k;
                size_t i = k;
                while (i > 0 && rank_after(c, c->order[i - 1], x)) {
                    c->order[i] = c->order[i - 1];
                    i--;
                }
                c->order[i] = x;
            }
        }
        for (size_t k = 0; k < size; k++) c->position[c->order[k]] = (uint16_t)k;
        found = canon_move(c, a, rec, rec, n, cut);
        if (found == 0) c->unmoved = a + 1; /* (`rec` as the arrays before left it) */
        if (found <= 0) return found;
    }
    return 1;
}

/* canonical(record) -> the representative's record, or None when a part is not known. */
static PyObject *Canon_canonical(Canon *c, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "canonical(record: bytes)");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg));
    if (!out) return NULL;
    int ok = canon_record(c, (uint8_t *)PyBytes_AS_STRING(out), (size_t)PyBytes_GET_SIZE(out));
    if (ok == 1) return out;
    Py_DECREF(out);
    if (ok < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyMethodDef Canon_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Canon_add, METH_FASTCALL,
     "add(key, value): keep a part of a representative"},
    {"clear", (PyCFunction)Canon_clear, METH_NOARGS, "clear(): forget every part"},
    {"reduce_with", (PyCFunction)Canon_reduce_with, METH_O,
     "reduce_with(python): what reduces a record whose parts are not all known"},
    {"canonical", (PyCFunction)Canon_canonical, METH_O,
     "canonical(record) -> the representative's record, or None if a part is unknown"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Canon_as_sequence = {
    .sq_length = (lenfunc)Canon_len,
};

static PyTypeObject CanonType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gilcheck.explore._records.Canon",
    .tp_basicsize = sizeof(Canon),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The parts of symmetry representatives, to reduce records in C.",
    .tp_new = Canon_new,
    .tp_dealloc = (destructor)Canon_dealloc,
    .tp_methods = Canon_methods,
    .tp_as_sequence = &Canon_as_sequence,
};

/* State `sid`'s record when the step table makes its successors (its threads' numbers
 * then the shared part, and a program not ended), with its thread count; else NULL. */
static const uint8_t *table_record(const Records *r, size_t sid, size_t *n) {
    size_t len, a = record_at(r, sid, &len);
    const uint8_t *stored = r->blob + a;
    *n = len >= 2 ? ((size_t)stored[0] | (size_t)stored[1] << 8) : 0;
    if (len < 2 + TAIL_SIZE || 2 + 4 * *n + TAIL_SIZE != len || stored[len - 1]) return NULL;
    return stored;
}

/* Thread `tid`'s entry in the state with this record (`tail` and its hash), or NULL:
 * then `*absent` says whether no entry has its key (one that can be derived), rather
 * than a join's entry waiting on Python or one the thread is interpreted by. */
static NEntry *find_entry(const Entries *table, const uint8_t *stored, size_t n,
                          const uint8_t *tail, uint64_t tail_hash, size_t tid, int interpret,
                          int *absent) {
    uint32_t number;
    memcpy(&number, stored + 2 + 4 * tid, 4);
    NEntry *entry = entries_find((Entries *)table, tail, tail_hash, tid, number);
    *absent = entry == NULL;
    if (entry && entry->watch) { /* a join: the entry for whether its thread has ended */
        size_t joined = (size_t)entry->watch - 1;
        uint8_t key[5] = {'e'};
        uint32_t len;
        if (joined >= n) return NULL;
        memcpy(key + 1, stored + 2 + 4 * joined, 4);
        const uint8_t *ended = map_get(&table->projected, key, sizeof key, &len);
        if (!ended || len != 1) return NULL; /* Python tells */
        entry = entries_find((Entries *)table, tail, tail_hash,
                             tid | (ended[0] ? ENDED_FLAG : RUNNING_FLAG), number);
    }
    if (!entry || (interpret && entry->interpret)) return NULL;
    return entry;
}

/* The entries of a table record's n threads, into `out` (NULL: only looked for): the
 * first thread without one, or interpreted in every state when `interpret` stops it too;
 * n when every thread has its entry. */
static size_t find_entries(const Entries *table, const uint8_t *stored, size_t n, NEntry **out,
                           int interpret) {
    const uint8_t *tail = stored + 2 + 4 * n;
    uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
    for (size_t tid = 0; tid < n; tid++) {
        int absent;
        NEntry *entry = find_entry(table, stored, n, tail, tail_hash, tid, interpret, &absent);
        if (!entry) return tid;
        if (out) out[tid] = entry;
    }
    return n;
}

/* Derive the entries a table record's n threads lack (`derive_entry`): 1 when none lacks
 * one any more, 0 when some still does, -1 with an exception. */
static int derive_missing(Entries *e, const uint8_t *stored, size_t n) {
    const uint8_t *tail = stored + 2 + 4 * n;
    uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
    int all = 1;
    for (size_t tid = 0; tid < n; tid++) {
        uint32_t number;
        memcpy(&number, stored + 2 + 4 * tid, 4);
        if (entries_find(e, tail, tail_hash, tid, number)) continue;
        int derived = derive_entry(e, tail, tail_hash, tid, number);
        if (derived < 0) return -1;
        if (!derived) all = 0;
    }
    return all;
}

/* Start loading the step-table entries of state `sid`'s threads. */
static void prefetch_entries(const Records *r, const Entries *table, size_t sid) {
    size_t n;
    const uint8_t *record = sid < r->count ? table_record(r, sid, &n) : NULL;
    if (!record) return;
    uint64_t tail_hash = hash_record(record + 2 + 4 * n, TAIL_SIZE);
    for (size_t tid = 0; tid < n; tid++) {
        uint32_t number;
        memcpy(&number, record + 2 + 4 * tid, 4);
        __builtin_prefetch(&table->slots[entry_hash(tail_hash, tid, number) & table->mask]);
    }
}

/* A known state's id without storing anything (-1: not stored; -2: a known fingerprint):
 * what a worker looks up while no state is being stored. */
static int32_t lookup_record(const Records *r, const uint8_t *rec, size_t len, uint64_t hash,
                             size_t *empty) {
    if (r->compact) {
        size_t slot = (size_t)hash & r->fp_mask;
        for (;;) {
            uint64_t known = r->fps[slot];
            if (!known) {
                *empty = slot;
                return -1;
            }
            if (known == hash) return -2;
            slot = (slot + 1) & r->fp_mask;
        }
    }
    size_t slot = hash & r->mask;
    for (;;) {
        int32_t sid = r->table[slot];
        if (sid < 0) {
            *empty = slot;
            return -1;
        }
        size_t known, a = record_at(r, (size_t)sid, &known);
        if (known == len && memcmp(r->blob + a, rec, len) == 0) return sid;
        slot = (slot + 1) & r->mask;
    }
}

/* A successor a worker did not find: stored where its lookup ended when that slot is
 * still empty and the index has not grown (an equal record stored since would have taken
 * that very slot), else interned as usual. */
static Py_ssize_t intern_made(Records *r, const Made *made, const uint8_t *rec, size_t len,
                              int32_t parent) {
    if (r->compact) {
        if (made->mask == r->fp_mask && !r->fps[made->slot] &&
            (r->fp_count + 1) * 4 <= (r->fp_mask + 1) * 3) {
            Py_ssize_t sid = append_state(r, rec, len, parent, made->via);
            if (sid >= 0) {
                r->fps[made->slot] = made->hash;
                r->fp_count++;
            }
            return sid;
        }
    } else if (made->mask == r->mask && r->table[made->slot] < 0 &&
               (r->count + 1) * 2 <= r->mask) {
        Py_ssize_t sid = append_state(r, rec, len, parent, made->via);
        if (sid >= 0) r->table[made->slot] = (int32_t)sid;
        return sid;
    }
    return intern_record(r, rec, len, made->hash, parent, made->via);
}

/* An entry a worker derived (`derive_privately`): its key, its template, and where its
 * patches are in the worker's `dpatches`. */
typedef struct Derived {
    uint8_t tail[TAIL_SIZE];
    uint16_t tid;
    uint32_t number;
    uint64_t tail_hash;
    const uint8_t *t;
    size_t patches;
    size_t slot; /* its slot in the worker's memo */
} Derived;

/* Phase 1 of `expand` for the states [first, stop): each state's successors made (their
 * records end to end in `scratch`) and hashed. It stops before a state that needs Python
 * (`halted`). With several workers, a round goes:
 *   1. each makes its states' successors, deriving the entries its states miss into its
 *      own buffers (`entries_derived`; the caller keeps them afterwards, `keep_derived`)
 *      and leaving a state whose entries or facts Python makes (`defer`) to phase 3;
 *   2. each looks up its part of all the round's successors, by hash (`settle_part`);
 *   3. they store them at once (`store_round`), or the caller does, in order, state by
 *      state: the same ids as one worker.
 * In phases 1-2 workers only read the store, the entries and the map, and write their own
 * buffers (phase 2: the successors of their own part). */
struct Worker {
    Records *r;
    const Entries *table;
    Canon *canon; /* the map of representatives: worker 0's is the map itself, the others'
                     a copy with scratch areas of their own (`canon_copy`) */
    Canon *canon_copy;
    int ample;
    int stubborn; /* persistent sets (`stubborn_reduce`) */
    int derive; /* derives missing entries (one worker alone) */
    int defer;  /* leaves a state with missing entries to phase 3 (several workers) */
    Py_ssize_t first, stop;
    uint8_t *scratch;
    size_t scratch_cap;
    Made *made;
    size_t made_cap;
    size_t *count, *len; /* per state: its successors and their length */
    size_t count_cap, len_cap;
    int gather;    /* derives the entries its states miss, for the caller to keep */
    NEntry *priv;  /* a state's entries it derived itself, by thread (`entries_derived`) */
    size_t priv_cap;
    const NPatch **pools; /* per thread of a state: the pool its entry's patches are in */
    size_t pools_cap;
    Derived *derived;
    size_t n_derived, derived_cap;
    NPatch *dpatches;
    size_t n_dpatches, dpatches_cap;
    int32_t *memo; /* its derived entries by key, for the round (`derived_find`) */
    size_t memo_mask;
    NEntry **entries;
    size_t entries_cap;
    Patch *steps;
    size_t steps_cap;
    size_t states, total, bytes; /* what was made */
    int halted;                  /* the state after the last made needs Python */
    int failed;                  /* 1: out of memory; 2: an exception is set (deriving) */
    /* Phase 2: the round's workers, this one's part (by hash), its successors not stored,
     * and of its part, the first occurrence of each record (by slot in `fresh`). */
    Worker *all;
    size_t n_all, part;
    Owned *own; /* its successors not stored */
    size_t n_own, own_cap;
    Owned *part_of; /* the first occurrences in its part, and where they are in `fresh` */
    size_t part_of_cap;
    int32_t *fresh;
    size_t fresh_cap;
    int unsettled; /* phase 2 did not run through (out of memory) */
    Py_ssize_t *lacking; /* `missing`: the states of its share with a thread without entry */
    size_t n_lacking, lacking_cap;
    size_t copy_from, copy_to; /* `rehash_part`: its share of the states */
    /* Phase 3 at once (`store_round`): its new states and their bytes, whether one has
     * another length than the stride or was not looked up, and where its states' new
     * ids, bytes, successors (the round's numbers, as its edges) and starts begin. */
    size_t new_count, new_bytes;
    int odd;
    size_t id_base, blob_base, number_base, starts_base;
    /* `stubborn_reduce`'s scratch: per thread its words and flags */
    uint64_t *sb_words;
    size_t sb_words_cap;
    uint8_t *sb_flags;
    size_t sb_flags_cap;
};

/* Persistent sets (engine/stubborn.py's `choose`, the reference): keep, of a state's
 * `*count` steps, those of the smallest closed set of threads with a step, when it leaves
 * out a thread with a step and each of its threads with a step goes forward. 0 when done
 * (the steps filtered in place, or kept), -1 where a thread number's facts are not known
 * yet (Python tells them), -2 out of memory. */
static int stubborn_reduce(Worker *w, const Entries *e, const uint8_t *stored, size_t n,
                           const uint8_t *tail, size_t *count) {
    Patch *steps = w->steps;
    if (*count < 2) return 0;
    if (raw_reserve((void **)&w->sb_words, &w->sb_words_cap, 4 * n, sizeof(uint64_t)) < 0 ||
        raw_reserve((void **)&w->sb_flags, &w->sb_flags_cap, 4 * n, 1) < 0)
        return -2;
    uint64_t *position = w->sb_words, *touch = w->sb_words + n, *future = w->sb_words + 2 * n,
             *steps_touch = w->sb_words + 3 * n;
    uint8_t *has = w->sb_flags, *fwd = w->sb_flags + n, *members = w->sb_flags + 2 * n,
            *best = w->sb_flags + 3 * n;
    long holder = (long)(tail[0] | tail[1] << 8) - 1;
    for (size_t t = 0; t < n; t++) {
        uint32_t number;
        memcpy(&number, stored + 2 + 4 * t, 4);
        const uint64_t *f = number_facts(e, number);
        if (!f) return -1;
        position[t] = f[0];
        steps_touch[t] = f[1];
        touch[t] = f[2]; /* what it waits on, until a step of it is found */
        future[t] = (long)t == holder ? f[4] : f[3];
        has[t] = 0;
        fwd[t] = 1;
    }
    for (size_t i = 0; i < *count; i++) {
        size_t t = steps[i].tid;
        if (!has[t]) {
            touch[t] = steps_touch[t];
            has[t] = 1;
        }
        if (fwd[t]) {
            const uint64_t *after = number_facts(e, steps[i].patch->number);
            if (!after) return -1;
            fwd[t] = moves_forward(position[t], after[0]);
        }
    }
    size_t moving = 0;
    for (size_t t = 0; t < n; t++) moving += has[t];
    if (moving < 2) return 0;
    size_t best_size = n + 1;
    for (size_t seed = 0; seed < n; seed++) {
        if (!has[seed] || !fwd[seed]) continue;
        memset(members, 0, n);
        members[seed] = 1;
        size_t size = 1;
        uint64_t now = touch[seed];
        int grew = 1;
        while (grew && size < best_size) {
            grew = 0;
            for (size_t u = 0; u < n; u++) {
                if (!members[u] && (future[u] & now)) {
                    members[u] = 1;
                    size++;
                    now |= touch[u];
                    grew = 1;
                }
            }
        }
        if (size >= best_size) continue;
        size_t in = 0;
        int forward_all = 1;
        for (size_t u = 0; u < n; u++) {
            if (members[u] && has[u]) {
                in++;
                forward_all &= fwd[u];
            }
        }
        if (in == moving || !forward_all) continue;
        memcpy(best, members, n);
        best_size = size;
    }
    if (best_size > n) return 0;
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++)
        if (best[steps[i].tid]) steps[kept++] = steps[i];
    *count = kept;
    return 0;
}

/* Phase 2 of `expand` with several workers, in two steps:
 *   a. each worker looks up its own successors in the store (which nothing changes now)
 *      and lists those not stored, with their numbers in the round (`look_up_own`);
 *   b. each takes its part of those (by their hash's top bits) and looks each up among
 *      the part's earlier ones, in the round's order (worker by worker, state by state),
 *      so that a record made several times is stored once, at its first occurrence, as
 *      one worker alone would store it (`settle_part`).
 * Workers write only their own successors (a) and those of their part (b). */
static void look_up_own(Worker *w) {
    const Records *r = w->r;
    size_t mask = r->compact ? r->fp_mask : r->mask;
    w->n_own = 0;
    w->unsettled = 1;
    /* Lookups wait on memory: the index slot of a successor a few ahead loads, and the
     * record its slot names for one nearer. */
    enum { SLOT_AHEAD = 16, RECORD_AHEAD = 8 };
    Made *all = w->made;
    for (size_t j = 0; j < w->total; j++) {
        if (j + SLOT_AHEAD < w->total) {
            uint64_t ahead = all[j + SLOT_AHEAD].hash;
            __builtin_prefetch(r->compact ? (const void *)&r->fps[ahead & mask]
                                          : (const void *)&r->table[ahead & mask]);
        }
        if (!r->compact && j + RECORD_AHEAD < w->total) {
            int32_t known = r->table[all[j + RECORD_AHEAD].hash & mask];
            if (known >= 0) {
                size_t known_len;
                __builtin_prefetch(r->blob + record_at(r, (size_t)known, &known_len));
            }
        }
        all[j].known = lookup_record(r, all[j].rec, all[j].len, all[j].hash, &all[j].slot);
        all[j].mask = mask;
    }
    if (raw_reserve((void **)&w->own, &w->own_cap, w->total ? w->total : 1, sizeof(Owned)) < 0)
        return;
    for (size_t j = 0; j < w->total; j++) { /* (in the round's order) */
        if (all[j].known != -1) continue;
        w->own[w->n_own].made = &all[j];
        w->own[w->n_own++].number = (int32_t)(w->number_base + j);
    }
    w->unsettled = 0;
}

static void settle_part(Worker *w) {
    const Records *r = w->r;
    size_t unknown = 0;
    for (size_t v = 0; v < w->n_all; v++) unknown += w->all[v].n_own;
    w->unsettled = 1;
    if (raw_reserve((void **)&w->part_of, &w->part_of_cap, unknown ? unknown : 1,
                    sizeof(Owned)) < 0)
        return;
    size_t want = 16;
    while (want < unknown * 2 + 16) want *= 2;
    if (want > w->fresh_cap) {
        int32_t *grown = realloc(w->fresh, want * sizeof(int32_t));
        if (!grown) return;
        w->fresh = grown;
        w->fresh_cap = want;
    }
    size_t fmask = w->fresh_cap - 1, mine = 0;
    memset(w->fresh, 0xff, w->fresh_cap * sizeof(int32_t));
    for (size_t v = 0; v < w->n_all; v++) {
        const Worker *from = &w->all[v];
        for (size_t i = 0; i < from->n_own; i++) {
            const Owned *own = &from->own[i];
            Made *made = own->made;
            if ((size_t)(made->hash >> 58) % w->n_all != w->part) continue;
            size_t at = (size_t)made->hash & fmask;
            for (;;) {
                int32_t seen = w->fresh[at];
                if (seen < 0) {
                    w->fresh[at] = (int32_t)mine;
                    w->part_of[mine++] = *own;
                    break;
                }
                const Made *earlier = w->part_of[seen].made;
                /* (fingerprints: equal when their fingerprints are, as `intern_fingerprint`
                 * says) */
                if (earlier->hash == made->hash &&
                    (r->compact || (earlier->len == made->len &&
                                    memcmp(earlier->rec, made->rec, made->len) == 0))) {
                    made->first = w->part_of[seen].number;
                    break;
                }
                at = (at + 1) & fmask;
            }
        }
    }
    w->unsettled = 0;
}

/* Where the entry a worker derived for this key is in its `derived`, or -1; `*slot`:
 * its slot in the worker's memo, or the empty one where it would go. */
static int32_t derived_find(const Worker *w, const uint8_t *tail, uint64_t tail_hash, size_t tid,
                            uint32_t number, size_t *slot) {
    size_t at = entry_hash(tail_hash, tid, number) & w->memo_mask;
    for (;;) {
        int32_t i = w->memo[at];
        if (i < 0) break;
        const Derived *d = &w->derived[i];
        if (d->tid == tid && d->number == number && memcmp(d->tail, tail, TAIL_SIZE) == 0) {
            *slot = at;
            return i;
        }
        at = (at + 1) & w->memo_mask;
    }
    *slot = at;
    return -1;
}

/* Room in the memo for one more entry (kept at most half full). 0, or -1 out of memory. */
static int memo_room(Worker *w) {
    if (w->memo && (w->n_derived + 1) * 2 <= w->memo_mask) return 0;
    size_t size = w->memo ? (w->memo_mask + 1) * 2 : 1024;
    int32_t *memo = malloc(size * sizeof(int32_t));
    if (!memo) return -1;
    memset(memo, 0xff, size * sizeof(int32_t));
    free(w->memo);
    w->memo = memo;
    w->memo_mask = size - 1;
    for (size_t i = 0; i < w->n_derived; i++) {
        Derived *d = &w->derived[i];
        derived_find(w, d->tail, d->tail_hash, d->tid, d->number, &d->slot);
        memo[d->slot] = (int32_t)i;
    }
    return 0;
}

/* A round's derived entries forgotten (their memo slots emptied). */
static void forget_derived(Worker *w) {
    for (size_t i = 0; i < w->n_derived; i++) w->memo[w->derived[i].slot] = -1;
    w->n_derived = w->n_dpatches = 0;
}

/* Thread `tid`'s entry, missing from the entries, derived as `derive_entry` does but into
 * the worker's own buffers (the entries are only read), once per round: its place in
 * `derived`, -1 when Python makes it, -2 out of memory. */
static int32_t derive_privately(Worker *w, const uint8_t *tail, uint64_t tail_hash, size_t tid,
                                uint32_t number) {
    if (memo_room(w) < 0) return -2;
    size_t slot;
    int32_t known = derived_find(w, tail, tail_hash, tid, number, &slot);
    if (known >= 0) return known;
    const Entries *e = w->table;
    int others;
    const uint8_t *t = find_template(e, tail, tid, number, &others);
    if (!t) return -1;
    size_t made = template_patches(t);
    if (raw_reserve((void **)&w->dpatches, &w->dpatches_cap, w->n_dpatches + made,
                    sizeof(NPatch)) < 0 ||
        raw_reserve((void **)&w->derived, &w->derived_cap, w->n_derived + 1, sizeof(Derived)) <
            0)
        return -2;
    /* (a part not numbered yet: Python's, as the workers only read the table) */
    if (fill_patches(e, t, tail, others, w->dpatches + w->n_dpatches, NULL) <= 0) return -1;
    Derived *d = &w->derived[w->n_derived];
    memcpy(d->tail, tail, TAIL_SIZE);
    d->tid = (uint16_t)tid;
    d->number = number;
    d->tail_hash = tail_hash;
    d->t = t;
    d->patches = w->n_dpatches;
    d->slot = slot;
    w->memo[slot] = (int32_t)w->n_derived;
    w->n_dpatches += made;
    return (int32_t)w->n_derived++;
}

/* Several workers: the entries of a state's threads (`entries`; the pools of their
 * patches in `pools`, the table's until then), where the worker derives those missing
 * itself, into its own buffers (the caller keeps them after phase 1). n when every
 * thread has one, less when one needs Python, -1 out of memory. */
static Py_ssize_t entries_derived(Worker *w, const uint8_t *stored, size_t n) {
    const Entries *table = w->table;
    const uint8_t *tail = stored + 2 + 4 * n;
    uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
    if (raw_reserve((void **)&w->priv, &w->priv_cap, n ? n : 1, sizeof(NEntry)) < 0) return -1;
    size_t derived = 0; /* threads whose entries the worker derived */
    for (size_t tid = 0; tid < n; tid++) {
        int absent;
        NEntry *entry = find_entry(table, stored, n, tail, tail_hash, tid, 1, &absent);
        if (entry) {
            w->entries[tid] = entry;
            continue;
        }
        if (!absent) return (Py_ssize_t)tid;
        uint32_t number;
        memcpy(&number, stored + 2 + 4 * tid, 4);
        int32_t at = derive_privately(w, tail, tail_hash, tid, number);
        if (at == -2) return -1;
        if (at < 0) return (Py_ssize_t)tid;
        NEntry *own = &w->priv[tid];
        entry_init(own, tail, tid, number);
        entry_steps(own, w->derived[at].t, w->derived[at].patches);
        w->entries[tid] = own;
        w->pools[tid] = NULL; /* (the worker's patches, which may still move) */
        derived++;
    }
    for (size_t tid = 0; tid < n && derived; tid++)
        if (!w->pools[tid]) w->pools[tid] = w->dpatches;
    return (Py_ssize_t)n;
}

/* How many derived entries ahead of the one kept their slots load. */
#define KEEP_AHEAD 8

/* The entries a worker derived, kept (one that another kept first is left): 0, or -1
 * with an exception set. */
static int keep_derived(Entries *e, Worker *w) {
    size_t most = keeps_most(e);
    /* Room for them all at once (up to that many), so that each slot can load a few
     * entries ahead. */
    size_t room = most > e->count ? most - e->count : 0;
    if (room > w->n_derived) room = w->n_derived;
    if (!room) return 0;
    size_t size = e->mask + 1;
    while ((e->count + room) * 2 > size - 1) size *= 2;
    if (size != e->mask + 1 && entries_rebuild(e, size) < 0) return -1;
    for (size_t i = 0; i < w->n_derived && e->count < most; i++) {
        const Derived *d = &w->derived[i];
        if (i + KEEP_AHEAD < w->n_derived) {
            const Derived *next = d + KEEP_AHEAD;
            __builtin_prefetch(
                &e->slots[entry_hash(next->tail_hash, next->tid, next->number) & e->mask], 1);
        }
        uint64_t tail_hash = d->tail_hash;
        if (entries_find(e, d->tail, tail_hash, d->tid, d->number)) continue;
        size_t made = template_patches(d->t);
        if (reserve_items((void **)&e->pool, &e->pool_cap, e->pool_len + made,
                          sizeof(NPatch)) < 0)
            return -1;
        memcpy(e->pool + e->pool_len, w->dpatches + d->patches, made * sizeof(NPatch));
        if (keep_template(e, d->tail, tail_hash, d->tid, d->number, d->t) < 0) return -1;
    }
    return 0;
}

/* The record `rec` (len bytes) reduced in place by Python's reduction: the whole record
 * (`a` < 0), or only array `a`'s threads moved by the permutation in c->position, where
 * `canon_record` ranked them but lacked a moved part (`moved`). 1, 0 when the reduction
 * is gone or gives something else than a record of that length, or -1 with an exception. */
static int reduce_in_python(Canon *c, uint8_t *rec, size_t len, Py_ssize_t a) {
    PyObject *python = PyWeakref_GetObject(c->python); /* (borrowed; None once gone) */
    if (python == Py_None) return 0;
    PyObject *record = PyBytes_FromStringAndSize((const char *)rec, (Py_ssize_t)len);
    if (!record) return -1;
    Py_INCREF(python);
    PyObject *reduced =
        a < 0 ? PyObject_CallOneArg(python, record)
              : PyObject_CallMethod(python, "moved", "Ony#", record, a, (const char *)c->position,
                                    (Py_ssize_t)(c->arrays[a].size * sizeof(uint16_t)));
    Py_DECREF(python);
    Py_DECREF(record);
    if (!reduced) return -1;
    int done = PyBytes_Check(reduced) && (size_t)PyBytes_GET_SIZE(reduced) == len;
    if (done) memcpy(rec, PyBytes_AS_STRING(reduced), len);
    Py_DECREF(reduced);
    return done;
}

/* A successor's record: the state's record `stored` (its shared part at `cut`) with the
 * step's thread number and shared part. */
static void patch_record(uint8_t *next, const uint8_t *stored, size_t cut, const Patch *step) {
    memcpy(next, stored, cut);
    memcpy(next + 2 + 4 * step->tid, &step->patch->number, 4);
    memcpy(next + cut, step->patch->tail, TAIL_SIZE);
}

static void make_successors(Worker *w) {
    Records *r = w->r;
    const Entries *table = w->table;
    w->states = w->total = w->bytes = 0;
    if (w->memo) {
        forget_derived(w); /* (the caller kept them after the last round) */
    } else {
        w->n_derived = w->n_dpatches = 0;
    }
    w->halted = w->failed = 0;
    for (Py_ssize_t at_sid = w->first; at_sid < w->stop; at_sid++) {
        if ((size_t)at_sid >= r->count) {
            w->halted = 1;
            return;
        }
        size_t n;
        const uint8_t *stored = table_record(r, (size_t)at_sid, &n);
        if (!stored) { /* not a record the table makes, or an ended program */
            w->halted = 1;
            return;
        }
        size_t cut = 2 + 4 * n, len = cut + TAIL_SIZE;
        if (raw_reserve((void **)&w->entries, &w->entries_cap, n ? n : 1, sizeof(NEntry *)) < 0 ||
            raw_reserve((void **)&w->pools, &w->pools_cap, n ? n : 1, sizeof(NPatch *)) < 0 ||
            raw_reserve((void **)&w->count, &w->count_cap, w->states + 1, sizeof(size_t)) < 0 ||
            raw_reserve((void **)&w->len, &w->len_cap, w->states + 1, sizeof(size_t)) < 0) {
            w->failed = 1;
            return;
        }
        const uint8_t *tail = stored + cut;
        NEntry **entries = w->entries;
        size_t tid;
        const NPatch **pools = w->pools; /* the table's, but for entries a worker derived */
        for (tid = 0; tid < n; tid++) pools[tid] = table->pool;
        int complete = find_entries(table, stored, n, entries, 1) == n;
        if (!complete && (w->gather || (w->derive && table->count >= keeps_most(table)))) {
            /* Several workers, or one past what the table keeps: the worker derives the
             * missing entries for this state itself, into its own buffers. */
            Py_ssize_t found = entries_derived(w, stored, n);
            if (found < 0) {
                w->failed = 1;
                return;
            }
            complete = (size_t)found == n;
            if (!complete && w->gather) goto missing; /* phase 3, or Python */
        }
        if (!complete) {
            /* Entries derived here and kept (one worker: the table is its alone), else
             * Python makes the missing entries, or interprets the thread. */
            int derived = w->derive ? derive_missing((Entries *)table, stored, n) : 0;
            if (derived < 0) {
                w->failed = 2;
                return;
            }
            if (!derived || find_entries(table, stored, n, entries, 1) < n)
                goto missing; /* phase 3 derives them and makes this state's successors */
            for (tid = 0; tid < n; tid++) pools[tid] = table->pool; /* (it may have moved) */
        }
        if (at_sid + 1 < w->stop) prefetch_entries(r, table, (size_t)at_sid + 1);
        /* The state's steps: the first thread's ample step, or every thread's steps with
         * the GIL owner's handover after its own when another thread wants it. */
        size_t count = 0;
        int unknown = 0; /* a thread number's persistent-set facts are not known yet */
        if (w->ample) {
            for (tid = 0; tid < n; tid++) {
                if (entries[tid]->ample >= 0) {
                    const NPatch *ample = &pools[tid][entries[tid]->ample];
                    if (w->stubborn) { /* only a step that goes forward (the cycle proviso) */
                        uint32_t number;
                        memcpy(&number, stored + 2 + 4 * tid, 4);
                        const uint64_t *before = number_facts(table, number);
                        const uint64_t *after = number_facts(table, ample->number);
                        if (!before || (!after && !ample->python)) {
                            unknown = 1;
                            break;
                        }
                        if (ample->python || !moves_forward(before[0], after[0])) break;
                    }
                    if (raw_reserve((void **)&w->steps, &w->steps_cap, 1, sizeof(Patch)) < 0) {
                        w->failed = 1;
                        return;
                    }
                    w->steps[0].patch = ample;
                    w->steps[0].tid = tid;
                    count = 1;
                    break;
                }
            }
        }
        if (!count && !unknown) {
            long owner = -1;
            for (tid = 0; tid < n; tid++) {
                if (entries[tid]->wants) {
                    owner = (long)(tail[0] | tail[1] << 8) - 1;
                    break;
                }
            }
            for (tid = 0; tid < n; tid++) {
                const NEntry *entry = entries[tid];
                int hands = (long)tid == owner && entry->handover >= 0;
                size_t k = (size_t)entry->count;
                if (raw_reserve((void **)&w->steps, &w->steps_cap, count + k + 1,
                                sizeof(Patch)) < 0) {
                    w->failed = 1;
                    return;
                }
                for (size_t i = 0; i < k; i++) {
                    w->steps[count].patch = &pools[tid][entry->first + (int32_t)i];
                    w->steps[count++].tid = tid;
                }
                if (hands) {
                    w->steps[count].patch = &pools[tid][entry->handover];
                    w->steps[count++].tid = tid;
                }
            }
        }
        int python = 0;
        for (size_t i = 0; i < count; i++) python |= w->steps[i].patch->python;
        if (w->stubborn && !python && !unknown && count >= 2) {
            int reduced = stubborn_reduce(w, table, stored, n, tail, &count);
            if (reduced == -2) {
                w->failed = 1;
                return;
            }
            unknown = reduced == -1;
        }
        if (unknown) /* Python tells the facts, as it makes missing entries */
            goto missing;
        Patch *steps = w->steps;
        if (python || count == 0) { /* a violation, a limit, or no step: Python's */
            w->halted = 1;
            return;
        }
        if (raw_reserve((void **)&w->scratch, &w->scratch_cap, w->bytes + count * len, 1) < 0 ||
            raw_reserve((void **)&w->made, &w->made_cap, w->total + count, sizeof(Made)) < 0) {
            w->failed = 1;
            return;
        }
        for (size_t i = 0; i < count; i++) {
            uint8_t *next = w->scratch + w->bytes + i * len;
            patch_record(next, stored, cut, &steps[i]);
            if (w->canon) {
                int reduced = canon_record(w->canon, next, len);
                if (reduced == 0 && w->canon->python) {
                    /* A part the map lacks: Python's reduction computes it where the worker
                     * runs alone (the GIL held, no other worker reading the map), and the
                     * loop goes on; several workers leave the state to phase 3. */
                    if (w->defer) goto missing;
                    Canon *canon = w->canon;
                    Py_ssize_t last = (Py_ssize_t)canon->n_arrays - 1;
                    if (canon->unmoved == canon->n_arrays) /* (only the last array's moves) */
                        reduced = reduce_in_python(canon, next, len, last);
                    if (reduced == 0) { /* the whole record: (canon_record changed it) */
                        patch_record(next, stored, cut, &steps[i]);
                        reduced = reduce_in_python(canon, next, len, -1);
                    }
                    if (reduced < 0) {
                        w->failed = 2; /* (its exception is set) */
                        return;
                    }
                }
                if (reduced < 0) w->failed = 1;
                if (reduced <= 0) { /* Python reduces it, and keeps the parts */
                    w->halted = reduced == 0;
                    return;
                }
            }
            uint64_t hash = record_hash(r, next, len);
            Made *made = &w->made[w->total + i];
            made->hash = hash;
            made->via = steps[i].patch->via;
            made->known = -1;
            made->mask = 0; /* no slot looked up */
            made->first = -1;
            made->len = (uint32_t)len;
            made->rec = NULL; /* (set once the scratch stops moving) */
            if (!w->defer) /* (several workers look up later: phase 2 loads it then) */
                __builtin_prefetch(r->compact ? (const void *)&r->fps[hash & r->fp_mask]
                                              : (const void *)&r->table[hash & r->mask]);
        }
        w->count[w->states] = count;
        w->len[w->states] = len;
        w->states++;
        w->total += count;
        w->bytes += count * len;
        continue;
    missing: /* an entry or a fact Python has not made yet: phase 3, or Python */
        if (w->defer) {
            w->count[w->states] = 0;
            w->len[w->states] = DEFERRED;
            w->states++;
            continue;
        }
        w->halted = 1;
        return;
    }
}

#ifndef _WIN32
/* `expand`'s threads: started with the first round that has several workers and kept
 * until the records go, so that a round costs no thread's start. A round is a job for
 * workers 0..n-1: the caller runs worker 0, thread i runs worker i. Threads wait for a
 * round by spinning a little (rounds follow each other closely), then on a condition. */
struct Pool {
    pthread_t threads[MAX_THREADS];
    size_t started;         /* threads 1..started run */
    pid_t pid;              /* the process that started them (a forked child has none) */
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    Worker *workers;
    size_t n;               /* workers in the current round */
    void (*job)(Worker *);
    unsigned long round;    /* bumped for each round (atomic) */
    size_t running;         /* threads that have not answered the round yet (atomic) */
    int stop;
};

typedef struct {
    Pool *pool;
    size_t index;
} PoolSeat;

#define POOL_SPINS 2000

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *pool_main(void *arg) {
    PoolSeat seat = *(PoolSeat *)arg;
    free(arg);
    Pool *pool = seat.pool;
    unsigned long seen = 0;
    for (;;) {
        unsigned long round;
        int spins = 0;
        while ((round = __atomic_load_n(&pool->round, __ATOMIC_ACQUIRE)) == seen &&
               !__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE)) {
            if (++spins < POOL_SPINS) {
                relax();
                continue;
            }
            pthread_mutex_lock(&pool->lock);
            while (__atomic_load_n(&pool->round, __ATOMIC_ACQUIRE) == seen && !pool->stop)
                pthread_cond_wait(&pool->wake, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
        if (__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE)) return NULL;
        seen = round;
        /* Every thread answers every round, also one with no worker in it, so that none
         * reads the round's job once the next is being set up. */
        if (seat.index < pool->n) pool->job(&pool->workers[seat.index]);
        if (__atomic_sub_fetch(&pool->running, 1, __ATOMIC_ACQ_REL) == 0) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->idle);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

static void pool_free(Records *r) {
    Pool *pool = r->pool;
    if (!pool) return;
    r->pool = NULL;
    if (pool->pid == getpid()) {
        pthread_mutex_lock(&pool->lock);
        __atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
        for (size_t i = 1; i <= pool->started; i++) pthread_join(pool->threads[i], NULL);
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->wake);
        pthread_cond_destroy(&pool->idle);
    } /* (in a forked child the threads are not there: its memory is all that is left) */
    free(pool);
}

/* The pool with threads for workers 1..n-1, started now if need be; NULL if none could
 * start (the caller then runs every worker itself). */
static Pool *pool_for(Records *r, size_t n) {
    if (r->pool && (r->pool->pid != getpid() || r->pool->started + 1 < n)) pool_free(r);
    if (r->pool) return r->pool;
    Pool *pool = calloc(1, sizeof(Pool));
    if (!pool) return NULL;
    pool->pid = getpid();
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->idle, NULL);
    for (size_t i = 1; i < n; i++) {
        PoolSeat *seat = malloc(sizeof(PoolSeat));
        if (!seat) break;
        seat->pool = pool;
        seat->index = i;
        if (pthread_create(&pool->threads[i], NULL, pool_main, seat) != 0) {
            free(seat);
            break;
        }
        pool->started = i;
    }
    r->pool = pool;
    return pool;
}
#endif

static void free_workers(Records *r) {
#ifndef _WIN32
    pool_free(r); /* (its threads run workers: stopped first) */
#endif
    for (size_t i = 0; i < r->n_workers; i++) {
        Worker *w = &r->workers[i];
        if (w->canon_copy) { /* (its map and arrays are the map's own) */
            canon_scratch_free(w->canon_copy);
            free(w->canon_copy);
        }
        free(w->scratch);
        free(w->made);
        free(w->count);
        free(w->len);
        free(w->entries);
        free(w->steps);
        free(w->fresh);
        free(w->own);
        free(w->derived);
        free(w->dpatches);
        free(w->priv);
        free(w->memo);
        free(w->pools);
        free(w->part_of);
        free(w->sb_words);
        free(w->sb_flags);
        free(w->lacking);
    }
    free(r->assigned);
    r->assigned = NULL;
    r->assigned_cap = 0;
    free(r->workers);
    r->workers = NULL;
    r->n_workers = 0;
}

/* Each worker's job, in one thread each (the caller's among them, on worker 0; where
 * threads could not start, the caller runs the others' jobs too, in order). */
static void run_workers(Records *r, Worker *workers, size_t n, void (*job)(Worker *)) {
#ifdef _WIN32
    for (size_t i = 0; i < n; i++) job(&workers[i]);
#else
    Pool *pool = n > 1 ? pool_for(r, n) : NULL;
    size_t helped = pool ? (pool->started + 1 < n ? pool->started + 1 : n) : 1;
    if (helped > 1) {
        pool->workers = workers;
        pool->n = helped;
        pool->job = job;
        __atomic_store_n(&pool->running, pool->started, __ATOMIC_RELEASE);
        pthread_mutex_lock(&pool->lock);
        __atomic_add_fetch(&pool->round, 1, __ATOMIC_ACQ_REL);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    job(&workers[0]);
    for (size_t i = helped; i < n; i++) job(&workers[i]);
    if (helped > 1) {
        int spins = 0;
        while (__atomic_load_n(&pool->running, __ATOMIC_ACQUIRE) != 0) {
            if (++spins < POOL_SPINS) {
                relax();
                continue;
            }
            pthread_mutex_lock(&pool->lock);
            while (__atomic_load_n(&pool->running, __ATOMIC_ACQUIRE) != 0)
                pthread_cond_wait(&pool->idle, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
    }
#endif
}

/* A part of the states [copy_from, copy_to) put into the index being made. */
static void rehash_part(Worker *w) {
    rehash_into(w->r, w->r->grown, w->r->grown_mask, w->copy_from, w->copy_to, 1);
}

/* The exact index grown to twice its size: its states rehashed by the caller, or by `n`
 * workers at once for a large index (where they go in a slot run then depends on which
 * comes first: that changes no lookup). */
static int grow_table(Records *r, Worker *workers, size_t n) {
    size_t size = (r->mask + 1) * 2;
    int32_t *table = PyMem_Malloc(size * sizeof(int32_t));
    if (!table) {
        PyErr_NoMemory();
        return -1;
    }
    memset(table, 0xFF, size * sizeof(int32_t));
    if (n < 2 || r->count < 65536) {
        rehash_into(r, table, size - 1, 0, r->count, 0);
        PyMem_Free(r->table);
        r->table = table;
        r->mask = size - 1;
        return 0;
    }
    r->grown = table;
    r->grown_mask = size - 1;
    for (size_t i = 0; i < n; i++) {
        workers[i].r = r;
        workers[i].copy_from = r->count * i / n;
        workers[i].copy_to = r->count * (i + 1) / n;
    }
    run_workers(r, workers, n, rehash_part);
    PyMem_Free(r->table);
    r->table = table;
    r->mask = size - 1;
    r->grown = NULL;
    return 0;
}

/* Phase 3 with several workers at once, in a round whose states to store (those of the
 * workers up to the first that stopped early) all have their successors made, and which
 * cannot reach the state limit. The same ids as one state at a time, since a new state's
 * id is the number of new states before it in the round's order:
 *   a. each worker counts its new states (neither stored nor made before in the round);
 *   b. each stores its own at the ids and places that follow from the counts before it
 *      (records, parents, first actions, index slots taken by compare-and-swap) and
 *      notes every successor's id but copies';
 *   c. each notes its copies' ids (their first occurrences' ids, noted in b) and writes
 *      its states' edges. */
static void count_new(Worker *w) {
    const Records *r = w->r;
    size_t fresh = 0, bytes = 0, j = 0;
    int odd = 0;
    for (size_t k = 0; k < w->states; k++) {
        size_t len = w->len[k];
        for (size_t m = 0; m < w->count[k]; m++) {
            const Made *made = &w->made[j++];
            if (made->known != -1 || made->first >= 0) continue;
            if (!made->mask || (r->stride != VARIABLE && r->stride != len)) odd = 1;
            fresh++;
            bytes += len;
        }
    }
    w->new_count = fresh;
    w->new_bytes = bytes;
    w->odd = odd;
}

static void store_new(Worker *w) {
    Records *r = w->r;
    size_t id = w->id_base, at = w->blob_base, j = 0;
    size_t number = w->number_base;
    size_t mask = r->compact ? r->fp_mask : r->mask;
    for (size_t k = 0; k < w->states; k++) {
        size_t len = w->len[k];
        int32_t parent = (int32_t)(w->first + (Py_ssize_t)k);
        for (size_t m = 0; m < w->count[k]; m++, number++) {
            const Made *made = &w->made[j++];
            if (made->first >= 0) continue; /* (c) */
            if (made->known != -1) {
                r->assigned[number] = made->known;
                continue;
            }
            memcpy(r->blob + at, made->rec, len);
            at += len;
            if (r->stride == VARIABLE) r->offsets[id + 1 - r->base] = (uint32_t)at;
            r->parent[id] = parent;
            r->via[id] = made->via;
            size_t slot = made->mask == mask ? made->slot : (size_t)made->hash & mask;
            if (r->compact) {
                claim_fingerprint(r->fps, mask, slot, made->hash);
            } else {
                claim_slot(r->table, mask, slot, (int32_t)id);
            }
            r->assigned[number] = (int32_t)id++;
        }
    }
}

static void link_copies(Worker *w) {
    Records *r = w->r;
    size_t number = w->number_base, j = 0;
    for (size_t k = 0; k < w->states; k++) {
        if (r->round_starts)
            r->round_starts[w->starts_base + k] = r->round_edge_at + (int32_t)number;
        for (size_t m = 0; m < w->count[k]; m++, number++) {
            int32_t first = w->made[j++].first;
            if (first >= 0) r->assigned[number] = r->assigned[first];
            if (r->round_dst) r->round_dst[number] = r->assigned[number];
        }
    }
}

/* The round stored at once (above): how many workers' states were stored (0: none, for
 * a round this is not for, which is then stored one state at a time; -1: out of memory,
 * an exception set, nothing stored). */
static Py_ssize_t store_round(Records *r, Worker *workers, size_t n, Py_ssize_t max_states,
                              Ints *starts, Ints *dst, Py_ssize_t dst_len) {
    size_t stored = 0, states = 0, edges = 0;
    for (size_t i = 0; i < n; i++)
        if (workers[i].unsettled) return 0; /* (each settles a part of every worker's) */
    while (stored < n) {
        Worker *w = &workers[stored++];
        if (w->failed) return 0;
        for (size_t k = 0; k < w->states; k++)
            if (w->len[k] == DEFERRED) return 0;
        w->starts_base = states; /* (number_base: set for phase 2) */
        states += w->states;
        edges += w->total;
        if (w->halted || w->states < (size_t)(w->stop - w->first)) break;
    }
    if (stored < 2) return 0;
    run_workers(r, workers, stored, count_new);
    size_t fresh = 0, bytes = 0;
    for (size_t i = 0; i < stored; i++) {
        Worker *w = &workers[i];
        if (w->odd) return 0;
        w->id_base = r->count + fresh;
        w->blob_base = r->blob_len + bytes;
        fresh += w->new_count;
        bytes += w->new_bytes;
    }
    if ((Py_ssize_t)(r->count + fresh) >= max_states ||
        (r->compact ? (r->fp_count + fresh) * 4 > (r->fp_mask + 1) * 3
                    : (r->count + fresh) * 2 > r->mask)) /* (grown for the round: not met) */
        return 0;
    if (reserve_states_for(r, fresh) < 0 || reserve_blob(r, bytes) < 0) {
        /* The store is full (or memory short) within the round: one state at a time, the
         * round stores the states one thread would, up to the one that does not fit. */
        PyErr_Clear();
        return 0;
    }
    if (dst) {
        if (reserve_items((void **)&dst->items, &dst->cap, dst->len + edges, sizeof(int32_t)) <
                0 ||
            reserve_items((void **)&starts->items, &starts->cap, starts->len + states,
                          sizeof(int32_t)) < 0)
            return -1;
        r->round_dst = dst->items + dst->len;
        r->round_starts = starts->items + starts->len;
        r->round_edge_at = (int32_t)(dst_len + (Py_ssize_t)dst->len);
    } else {
        r->round_dst = r->round_starts = NULL;
    }
    run_workers(r, workers, stored, store_new);
    r->count += fresh;
    r->blob_len += bytes;
    if (r->compact) r->fp_count += fresh;
    run_workers(r, workers, stored, link_copies);
    if (dst) {
        dst->len += edges;
        starts->len += states;
    }
    r->round_dst = r->round_starts = NULL;
    return (Py_ssize_t)stored;
}

/* A worker's states are stored: the run of states that needed no Python grows by them,
 * or starts again where the worker stopped before its last state. Whether it stopped
 * before a state that needs Python. */
static int worker_done(Records *r, const Worker *w) {
    if (w->halted || w->states < (size_t)(w->stop - w->first)) {
        r->streak = 0;
    } else {
        r->streak += w->states;
    }
    return w->halted;
}

/* Worker `w`'s map of representatives: `canon`'s map and arrays (as they are now: Python
 * adds parts between calls) with scratch areas of the worker's own; NULL out of memory. */
static Canon *canon_copy(Worker *w, const Canon *canon) {
    Canon *copy = w->canon_copy;
    if (!copy) {
        copy = calloc(1, sizeof(Canon));
        if (!copy) return NULL;
        copy->text = malloc(64); /* never NULL: ranks point into it */
        if (!copy->text) {
            free(copy);
            return NULL;
        }
        copy->text_cap = 64;
        w->canon_copy = copy;
    }
    copy->map = canon->map;
    copy->arrays = canon->arrays;
    copy->n_arrays = canon->n_arrays;
    copy->python = canon->python; /* (borrowed: phase 3 calls it, never a worker) */
    copy->own_label = canon->own_label; /* (read only: the copy never adds texts) */
    copy->own_label_cap = canon->own_label_cap;
    copy->ordered = canon->ordered;
    return copy;
}

/* expand(sid, stop, max_states, entries, ample, starts, dst, dst_len, canon, threads)
 *   -> (next sid, states expanded, transitions) */
/* Room for `threads` workers and one more (`expand`'s last makes deferred states'
 * successors), kept between calls: -1 with an exception. */
static int keep_workers(Records *r, size_t threads) {
    if (r->n_workers >= threads + 1) return 0;
    free_workers(r);
    r->workers = calloc(threads + 1, sizeof(Worker));
    if (!r->workers) {
        PyErr_NoMemory();
        return -1;
    }
    r->n_workers = threads + 1;
    return 0;
}

static PyObject *Records_expand(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "expand takes 10 arguments");
        return NULL;
    }
    Py_ssize_t sid = PyLong_AsSsize_t(args[0]);
    if (sid == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t stop = PyLong_AsSsize_t(args[1]);
    if (stop == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t max_states = PyLong_AsSsize_t(args[2]);
    if (max_states == -1 && PyErr_Occurred()) return NULL;
    if (!PyObject_TypeCheck(args[3], &EntriesType)) {
        PyErr_SetString(PyExc_TypeError, "entries must be an Entries");
        return NULL;
    }
    Entries *table = (Entries *)args[3];
    /* bit 0: ample steps; bit 1: persistent sets; bit 2: the states ahead have their
     * entries (Python made them ahead): several threads may start at once */
    long flags = PyLong_AsLong(args[4]);
    if (flags == -1 && PyErr_Occurred()) return NULL;
    int ample = (int)(flags & 1), stubborn = (int)((flags >> 1) & 1);
    if (flags & 4) r->streak = r->streak_needed;
    PyObject *starts_array = args[5], *dst_array = args[6];
    Py_ssize_t dst_len = PyLong_AsSsize_t(args[7]);
    if (dst_len == -1 && PyErr_Occurred()) return NULL;
    Canon *canon = NULL; /* with symmetry: each successor goes to its representative */
    if (args[8] != Py_None) {
        if (!PyObject_TypeCheck(args[8], &CanonType)) {
            PyErr_SetString(PyExc_TypeError, "canon must be a Canon or None");
            return NULL;
        }
        canon = (Canon *)args[8];
    }
    Py_ssize_t threads = PyLong_AsSsize_t(args[9]);
    if (threads == -1 && PyErr_Occurred()) return NULL;
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (sid < 0 || (size_t)sid < r->base) { /* below `base`: a record not kept */
        PyErr_SetString(PyExc_IndexError, "no such state");
        return NULL;
    }
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the records are in use");
        return NULL;
    }
    if (keep_workers(r, (size_t)threads) < 0) return NULL;
    Worker *alone = &r->workers[r->n_workers - 1];
    r->busy = 1;
    int edges = dst_array != Py_None;
    Ints starts = {0}, dst = {0};
    Py_ssize_t expanded = 0, transitions = 0;
    int failed = 0, halted = 0;
    while (!halted && !failed) {
        /* 1. The successors of a batch of states, made by one worker (BATCH states, their
         *    index slots loading) or, where a level has enough states left, by several at
         *    once (then 2. each looks up its part of them: `settle_part`). Nothing is
         *    stored yet. */
        Py_ssize_t left = stop - sid;
        size_t n = 1;
        /* Several workers only while states need no Python for a while (a run of
         * STREAK states, or a run whose entries Python has just made ahead, flag 4): a
         * worker's states after one that does are made for nothing. */
        Py_ssize_t share = (Py_ssize_t)r->per_worker;
        if (threads > 1 && r->streak >= r->streak_needed &&
            left >= threads * (Py_ssize_t)r->min_per_worker) {
            n = (size_t)threads;
            if (share > left / threads) share = left / threads; /* the level's last states */
        }
        Worker *workers = r->workers;
        Py_ssize_t from = sid;
        for (size_t i = 0; i < n; i++) {
            Worker *w = &workers[i];
            w->r = r;
            w->table = table;
            w->canon = i == 0 || !canon ? canon : canon_copy(w, canon);
            if (canon && !w->canon) {
                PyErr_NoMemory();
                failed = 1;
                break;
            }
            w->ample = ample;
            w->stubborn = stubborn;
            w->derive = n == 1;
            w->defer = w->gather = n > 1;
            w->first = from;
            w->stop = n == 1 ? (left < BATCH ? stop : sid + BATCH) : from + share;
            from = w->stop;
        }
        if (failed) break;
        size_t round = 0; /* the successors made in this round, with several workers */
        size_t serial_from = 0; /* the first worker whose states phase 3 stores one by one */
        if (n > 1) {
            run_workers(r, workers, n, make_successors);
            for (size_t i = 0; i < n && !failed; i++) { /* the entries they derived, kept */
                if (keep_derived(table, &workers[i]) < 0) failed = 1;
                r->derived += workers[i].n_derived;
            }
            if (failed) break;
            for (size_t i = 0; i < n; i++) { /* their records stay where they are now */
                Worker *w = &workers[i];
                size_t j = 0, offset = 0;
                for (size_t k = 0; k < w->states; k++) {
                    for (size_t m = 0; m < w->count[k]; m++, j++, offset += w->len[k])
                        w->made[j].rec = w->scratch + offset;
                }
                w->all = workers;
                w->n_all = n;
                w->part = i;
                round += w->total;
            }
            if (raw_reserve((void **)&r->assigned, &r->assigned_cap, round ? round : 1,
                            sizeof(int32_t)) < 0) {
                PyErr_NoMemory();
                failed = 1;
                break;
            }
            /* Room in the index for every successor of the round, so that the slots the
             * lookups end at stay valid while phase 3 gives the new states their ids. */
            while (!failed && (r->compact ? (r->fp_count + round) * 4 > (r->fp_mask + 1) * 3
                                          : (r->count + round) * 2 > r->mask))
                if ((r->compact ? grow_fingerprints(r) : grow_table(r, workers, n)) < 0)
                    failed = 1;
            if (failed) break;
            size_t numbered = 0;
            for (size_t i = 0; i < n; i++) {
                workers[i].number_base = numbered;
                numbered += workers[i].total;
            }
            run_workers(r, workers, n, look_up_own);
            run_workers(r, workers, n, settle_part);
            /* 3. at once where it can be (`store_round`), else below */
            Py_ssize_t at_once =
                store_round(r, workers, n, max_states, &starts, edges ? &dst : NULL, dst_len);
            if (at_once < 0) {
                failed = 1;
                break;
            }
            for (size_t i = 0; i < (size_t)at_once; i++) {
                Worker *w = &workers[i];
                expanded += (Py_ssize_t)w->states;
                transitions += (Py_ssize_t)w->total;
                sid += (Py_ssize_t)w->states;
                halted |= worker_done(r, w);
            }
            if (at_once) serial_from = n;
            r->rounds_at_once += at_once > 0;
            r->rounds_in_order += at_once == 0;
        } else {
            make_successors(&workers[0]);
            /* 2. The records their index slots name load too. */
            Worker *w = &workers[0];
            if (!r->compact) {
                for (size_t j = 0; j < w->total; j++) {
                    int32_t known = r->table[w->made[j].hash & r->mask];
                    if (known >= 0) {
                        size_t known_len;
                        __builtin_prefetch(r->blob + record_at(r, (size_t)known, &known_len));
                    }
                }
            }
        }
        /* 3. Stored in order, state by state: the same ids as one state at a time. A
         *    state a worker left (its entries were missing) has them derived and its
         *    successors made here, alone, in its turn. */
        int32_t number = 0; /* the round's successors before this state's */
        for (size_t i = serial_from; i < n && !halted && !failed; i++) {
            Worker *w = &workers[i];
            size_t j = 0, offset = 0;
            for (size_t k = 0; k < w->states; k++) {
                if ((Py_ssize_t)r->count >= max_states) {
                    halted = 1;
                    break;
                }
                const Made *made = w->made + j;
                const uint8_t *scratch = w->scratch + offset;
                size_t count = w->count[k], len = w->len[k];
                j += count;
                offset += count * (len == DEFERRED ? 0 : len);
                int32_t *assigned = n > 1 ? r->assigned + number : NULL;
                number += (int32_t)count;
                if (len == DEFERRED) {
                    assigned = NULL; /* (not of the round) */
                    alone->r = r;
                    alone->table = table;
                    alone->canon = canon; /* (the workers are done: the map is free) */
                    alone->ample = ample;
                    alone->stubborn = stubborn;
                    alone->defer = 0;
                    alone->derive = 1;
                    alone->first = sid;
                    alone->stop = sid + 1;
                    make_successors(alone);
                    if (alone->failed) {
                        if (alone->failed == 1) PyErr_NoMemory();
                        failed = 1;
                        break;
                    }
                    if (alone->states == 0) { /* Python's */
                        halted = 1;
                        r->streak = 0;
                        break;
                    }
                    made = alone->made;
                    scratch = alone->scratch;
                    count = alone->count[0];
                    len = alone->len[0];
                }
                if (edges && ints_push(&starts, (int32_t)(dst_len + (Py_ssize_t)dst.len)) < 0) {
                    failed = 1;
                    break;
                }
                if (assigned && k + 1 < w->states) { /* the next state's fresh slots load */
                    const Made *next = w->made + j;
                    for (size_t m = 0; m < w->count[k + 1]; m++)
                        if (next[m].mask && next[m].known == -1 && next[m].first < 0 &&
                            !r->compact)
                            __builtin_prefetch(&r->table[next[m].slot], 1);
                }
                for (size_t m = 0; m < count; m++) {
                    Py_ssize_t target;
                    if (made[m].first >= 0) { /* made before in the round: its id */
                        target = r->assigned[made[m].first];
                    } else {
                        target = made[m].known;
                        if (target == -1)
                            target = intern_made(r, &made[m], scratch + m * len, len, (int32_t)sid);
                    }
                    if (assigned) assigned[m] = (int32_t)target;
                    if (target == -1 || (edges && ints_push(&dst, (int32_t)target) < 0)) {
                        failed = 1;
                        break;
                    }
                }
                if (failed) break;
                expanded++;
                transitions += (Py_ssize_t)count;
                sid++;
            }
            if (w->failed) {
                if (w->failed == 1 && !failed) PyErr_NoMemory();
                failed = 1;
            }
            halted |= worker_done(r, w);
        }
        if (n > 1) {
            /* Batches grow while they run through, and start small again after a stop. */
            if (halted || failed) {
                r->per_worker = r->min_per_worker;
            } else if (r->per_worker < MAX_PER_WORKER) {
                r->per_worker *= 2;
            }
        }
        if (!halted && sid >= stop) halted = 1;
    }
    r->busy = 0;
    PyObject *result = NULL;
    if (failed) {
        /* Hand over the edges of the states expanded before the error, keeping it, and
         * what `expand` would have returned for them as its `partial` attribute. */
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        if (ints_flush(&starts, starts_array) < 0 || ints_flush(&dst, dst_array) < 0)
            PyErr_Clear();
        PyObject *partial = Py_BuildValue("nnn", sid, expanded, transitions);
        if (!partial || !value || PyObject_SetAttrString(value, "partial", partial) < 0)
            PyErr_Clear();
        Py_XDECREF(partial);
        PyErr_Restore(type, value, traceback);
    } else if (ints_flush(&starts, starts_array) == 0 && ints_flush(&dst, dst_array) == 0) {
        result = Py_BuildValue("nnn", sid, expanded, transitions);
    }
    PyMem_Free(starts.items);
    PyMem_Free(dst.items);
    return result;
}

/* A worker's share of `missing`, [first, stop): the states with a thread that has no
 * entry, into `lacking`. It only reads the table, so several threads scan at once. */
static void scan_lacking(Worker *w) {
    const Records *r = w->r;
    w->n_lacking = 0;
    for (Py_ssize_t at = w->first; at < w->stop; at++) {
        size_t n;
        const uint8_t *stored = table_record(r, (size_t)at, &n);
        if (!stored || find_entries(w->table, stored, n, NULL, 0) == n) continue;
        if (raw_reserve((void **)&w->lacking, &w->lacking_cap, w->n_lacking + 1,
                        sizeof(Py_ssize_t)) < 0) {
            w->failed = 1;
            return;
        }
        w->lacking[w->n_lacking++] = at;
    }
}

/* A worker's share of `missing` on several threads, [first, stop): the entries its states
 * lack derived into its own buffers, as `expand`'s workers derive them
 * (`derive_privately`: the table only read), and into `lacking` the states with an entry
 * it cannot derive so (one Python makes, or one whose step makes a part not numbered yet),
 * which `missing` derives in order once it has kept the others. */
static void derive_lacking(Worker *w) {
    const Records *r = w->r;
    Entries *table = (Entries *)w->table;
    w->n_lacking = 0;
    if (w->memo) {
        forget_derived(w); /* (kept by the last `expand` or `missing`) */
    } else {
        w->n_derived = w->n_dpatches = 0;
    }
    for (Py_ssize_t at = w->first; at < w->stop; at++) {
        size_t n;
        const uint8_t *stored = table_record(r, (size_t)at, &n);
        if (!stored) continue;
        const uint8_t *tail = stored + 2 + 4 * n;
        uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
        for (size_t tid = 0; tid < n; tid++) {
            uint32_t number;
            memcpy(&number, stored + 2 + 4 * tid, 4);
            if (entries_find(table, tail, tail_hash, tid, number)) continue;
            int32_t derived = derive_privately(w, tail, tail_hash, tid, number);
            if (derived == -2) {
                w->failed = 1;
                return;
            }
            if (derived >= 0) continue;
            if (raw_reserve((void **)&w->lacking, &w->lacking_cap, w->n_lacking + 1,
                            sizeof(Py_ssize_t)) < 0) {
                w->failed = 1;
                return;
            }
            w->lacking[w->n_lacking++] = at;
            break;
        }
    }
}


/* missing(sid, stop, entries[, threads]) -> (ids, end): the ids in [sid, end) of the
 * states with a thread that has no entry in `entries` and none C can derive (so that
 * Python makes them ahead, a run of states at a time). The states are scanned on up to
 * `threads` threads (1 by default); the entries C can derive are then derived here, in
 * order, until the table is past 7/8 of its limit: `end` is where that stopped (else
 * `stop`), so that a run's entries do not fill the table, which would start afresh. */
static PyObject *Records_missing(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    if ((nargs != 3 && nargs != 4) || !PyObject_TypeCheck(args[2], &EntriesType)) {
        PyErr_SetString(PyExc_TypeError, "missing(sid, stop, entries[, threads])");
        return NULL;
    }
    Py_ssize_t sid = PyLong_AsSsize_t(args[0]);
    if (sid == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t stop = PyLong_AsSsize_t(args[1]);
    if (stop == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t threads = nargs == 4 ? PyLong_AsSsize_t(args[3]) : 1;
    if (threads == -1 && PyErr_Occurred()) return NULL;
    Entries *table = (Entries *)args[2];
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the records are in use");
        return NULL;
    }
    if (sid < (Py_ssize_t)r->base) sid = (Py_ssize_t)r->base;
    if (stop > (Py_ssize_t)r->count) stop = (Py_ssize_t)r->count;
    if (stop < sid) stop = sid;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    Py_ssize_t per_thread = (Py_ssize_t)r->scan_per_thread;
    if (threads > (stop - sid) / per_thread) threads = (stop - sid) / per_thread;
    if (threads < 1) threads = 1;
    if (keep_workers(r, (size_t)threads) < 0) return NULL;
    Worker *workers = r->workers;
    Py_ssize_t share = (stop - sid + threads - 1) / threads, from = sid;
    for (Py_ssize_t i = 0; i < threads; i++) {
        Worker *w = &workers[i];
        w->r = r;
        w->table = table;
        w->failed = 0;
        w->first = from;
        w->stop = from + share < stop ? from + share : stop;
        from = w->stop;
    }
    /* On several threads (or past what the table keeps of them) each derives what its
     * states lack, and the entries are kept here, in order; else the states lacking an
     * entry are only found, and their entries derived here. */
    int privately = threads > 1 || table->count >= keeps_most(table);
    r->busy = 1;
    run_workers(r, workers, (size_t)threads, privately ? derive_lacking : scan_lacking);
    r->busy = 0;
    PyObject *out = PyList_New(0);
    Py_ssize_t end = stop;
    for (Py_ssize_t i = 0; out && i < threads && end == stop; i++) {
        Worker *w = &workers[i];
        if (w->failed) {
            Py_CLEAR(out);
            PyErr_NoMemory();
            break;
        }
        if (privately) {
            if (nearly_full(table)) { /* this share is left */
                end = w->first;
                break;
            }
            if (keep_derived(table, w) < 0) {
                Py_CLEAR(out);
                break;
            }
            r->derived_ahead += w->n_derived;
        }
        for (size_t k = 0; out && k < w->n_lacking; k++) {
            size_t n;
            Py_ssize_t at = w->lacking[k];
            if (nearly_full(table)) {
                end = at;
                break;
            }
            const uint8_t *stored = table_record(r, (size_t)at, &n);
            int derived = derive_missing(table, stored, n);
            if (derived < 0) Py_CLEAR(out);
            if (derived != 0) continue;
            PyObject *id = PyLong_FromSsize_t(at);
            if (!id || PyList_Append(out, id) < 0) Py_CLEAR(out);
            Py_XDECREF(id);
        }
    }
    return out ? Py_BuildValue("(Nn)", out, end) : NULL;
}

/* tune(streak, per_worker): when several threads start (after `streak` states that needed
 * no Python) and with how many states each, at first; for tests. */
static PyObject *Records_tune(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t streak, per_worker, most = 0, scan = SCAN_PER_THREAD;
    if (nargs < 2 || nargs > 4 || (streak = PyLong_AsSsize_t(args[0])) < 0 ||
        (per_worker = PyLong_AsSsize_t(args[1])) < 1 ||
        (nargs >= 3 && (most = PyLong_AsSsize_t(args[2])) < 0) ||
        (nargs == 4 && (scan = PyLong_AsSsize_t(args[3])) < 1)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "tune(streak >= 0, per_worker >= 1[, most_bytes "
                                              ">= 0[, scan_per_thread >= 1]])");
        return NULL;
    }
    r->streak_needed = (size_t)streak;
    r->per_worker = r->min_per_worker = (size_t)per_worker;
    r->blob_most = (size_t)most;
    r->scan_per_thread = (size_t)scan;
    Py_RETURN_NONE;
}

/* rounds() -> (at once, in order, derived, derived ahead): of the rounds of several
 * threads, those stored at once and those stored one state at a time, the entries the
 * threads derived there, and those they derived ahead in `missing`. */
static PyObject *Records_rounds(Records *r, PyObject *unused) {
    return Py_BuildValue("nnnn", (Py_ssize_t)r->rounds_at_once, (Py_ssize_t)r->rounds_in_order,
                         (Py_ssize_t)r->derived, (Py_ssize_t)r->derived_ahead);
}

static PyObject *configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "configure(StoreFull, INTERPRET)");
        return NULL;
    }
    Py_XSETREF(StoreFull, Py_NewRef(args[0]));
    Py_XSETREF(Interpret, Py_NewRef(args[1]));
    Py_RETURN_NONE;
}

/* sizes() -> (records, index, links): the bytes in use by the records themselves, by
 * their index (the hash table, and each record's offset once lengths differ) and by the
 * trace links (each state's parent and first action). */
static PyObject *Records_sizes(Records *r, PyObject *unused) {
    size_t index = r->compact ? (r->fp_mask + 1) * sizeof(uint64_t)
                              : (r->mask + 1) * sizeof(int32_t);
    if (r->stride == VARIABLE) index += (r->count - r->base + 1) * sizeof(uint32_t);
    return Py_BuildValue("nnn", (Py_ssize_t)r->blob_len, (Py_ssize_t)index,
                         (Py_ssize_t)(r->count * 2 * sizeof(int32_t)));
}

/* use_fingerprints(): keep fingerprints instead of records (an empty store only). */
static PyObject *Records_use_fingerprints(Records *r, PyObject *unused) {
    if (r->count || r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "fingerprints are chosen before the first state");
        return NULL;
    }
    if (!r->compact) {
        if (grow_fingerprints(r) < 0) return NULL;
        r->compact = 1;
        PyMem_Free(r->table);
        r->table = NULL;
        r->mask = 0;
    }
    Py_RETURN_NONE;
}

/* forget(upto): fingerprint mode: drop the records of states before `upto` (expanded). */
static PyObject *Records_forget(Records *r, PyObject *arg) {
    Py_ssize_t upto = PyLong_AsSsize_t(arg);
    if (upto == -1 && PyErr_Occurred()) return NULL;
    if (!r->compact || r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "only a store of fingerprints forgets records");
        return NULL;
    }
    if (upto < (Py_ssize_t)r->base || (size_t)upto > r->count) {
        PyErr_SetString(PyExc_IndexError, "no such state");
        return NULL;
    }
    size_t len, cut = (size_t)upto == r->count ? r->blob_len : record_at(r, (size_t)upto, &len);
    memmove(r->blob, r->blob + cut, r->blob_len - cut);
    r->blob_len -= cut;
    if (r->stride == VARIABLE) {
        size_t drop = (size_t)upto - r->base, kept = r->count - (size_t)upto + 1;
        memmove(r->offsets, r->offsets + drop, kept * sizeof(uint32_t));
        for (size_t i = 0; i < kept; i++) r->offsets[i] -= (uint32_t)cut;
    }
    r->base = (size_t)upto;
    if (r->blob_cap > 2 * r->blob_len + (1 << 20)) { /* give the room back */
        size_t cap = r->blob_len + r->blob_len / 4 + (1 << 16);
        uint8_t *blob = PyMem_Realloc(r->blob, cap);
        if (blob) {
            r->blob = blob;
            r->blob_cap = cap;
        }
    }
    Py_RETURN_NONE;
}


/* ---- The search on several processes (explore/native_cluster.py) ----
 *
 * Each process stores its states as here, with its own numbers for threads and parts, and
 * owns the states whose control (where each thread is, the GIL, stdout, the end) falls
 * to it. After a depth, `split` takes the states that depth found out of the store and
 * sorts them into batches by owner: another process's states are stored again here as
 * copies (never expanded: they keep this process from sending a state twice, and the
 * trace's steps into them), its own wait for `merge`, which stores them with those the
 * other processes sent, in the order of their keys, so that each process's states of a
 * depth have consecutive ids in the order the one-process search numbers them.
 *
 * A batch is one bytes object: u32 n, u32 bytes of records, then n each of u32 length,
 * i64 key parent (the number of the state it was found from), i64 key place (where the
 * finder found it among the depth's new states), i32 ref (the parent's id, or the copy's
 * id at the sender), i32 via (the first action's number at the sender), then the records.
 */

#define BATCH_HEAD 8
#define BATCH_ITEM (4 + 8 + 8 + 4 + 4)
#define AHEAD 8 /* index slots loaded this many states ahead */

static inline uint64_t mix64(uint64_t x) {
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 29;
    return x;
}

/* The threads in a record (store.py's layout: u16 n, n u32 threads, u16 gil + 1, u32 vars,
 * locks and channels, u16 stdout + 1, u8 ended, and maybe a u32 extended part), or -1. */
static inline Py_ssize_t record_threads(const uint8_t *rec, size_t len, int *extended) {
    if (len < 2) return -1;
    uint16_t n;
    memcpy(&n, rec, 2);
    size_t plain = 4 * (size_t)n + 19;
    if (len != plain && len != plain + 4) return -1;
    *extended = len != plain;
    return n;
}

/* Which of `count` processes owns the state with this record: a hash of its control only,
 * the threads named by their `keys` (the same in every process), so equal states have one
 * owner everywhere; -1 for a thread with no key. Only the threads at positions the
 * partition's `mask` names are hashed (position i: bit i, and bit 63 for positions 63 on),
 * and the GIL only with `gil`: a step of another thread keeps the state where it is. */
static Py_ssize_t owner_of_record(const uint8_t *rec, size_t len, const uint64_t *keys,
                                  size_t n_keys, size_t count, uint64_t mask, int gil) {
    int extended;
    Py_ssize_t n = record_threads(rec, len, &extended);
    if (n < 0) return -1;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t t;
        memcpy(&t, rec + 2 + 4 * i, 4);
        if (t >= n_keys) return -1;
        if (mask >> (i < 63 ? i : 63) & 1) h = mix64(h ^ keys[t]);
    }
    const uint8_t *tail = rec + 2 + 4 * n;
    uint16_t held, out;
    memcpy(&held, tail, 2);
    memcpy(&out, tail + 14, 2);
    if (!gil) held = 0;
    h = mix64(h ^ ((uint64_t)held | (uint64_t)out << 16 | (uint64_t)tail[16] << 32));
    return (Py_ssize_t)(h % count);
}

/* The partition's optional arguments: mask (every position when absent) and gil (1). */
static int partition_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t first,
                          uint64_t *mask, int *gil) {
    *mask = ~0ull;
    *gil = 1;
    if (nargs > first) {
        *mask = PyLong_AsUnsignedLongLong(args[first]);
        if (*mask == (uint64_t)-1 && PyErr_Occurred()) return -1;
    }
    if (nargs > first + 1) {
        *gil = PyObject_IsTrue(args[first + 1]);
        if (*gil < 0) return -1;
    }
    return 0;
}

/* Take state `sid` out of the index (backward-shift deletion: the probes of the others
 * still end where they should). */
static void unindex(Records *r, size_t sid) {
    size_t len, at = record_at(r, sid, &len);
    size_t hole = hash_record(r->blob + at, len) & r->mask;
    while (r->table[hole] != (int32_t)sid) hole = (hole + 1) & r->mask;
    r->table[hole] = -1;
    for (size_t j = (hole + 1) & r->mask; r->table[j] >= 0; j = (j + 1) & r->mask) {
        size_t other_len, other = record_at(r, (size_t)r->table[j], &other_len);
        size_t home = hash_record(r->blob + other, other_len) & r->mask;
        if (((j - home) & r->mask) >= ((j - hole) & r->mask)) {
            r->table[hole] = r->table[j];
            r->table[j] = -1;
            hole = j;
        }
    }
}

typedef struct {
    uint32_t n, bytes;
    uint8_t *lens, *kp, *ks, *ref, *via, *recs; /* into the batch */
} BatchView;

static int batch_view(const uint8_t *p, size_t size, BatchView *v) {
    if (size < BATCH_HEAD) return -1;
    memcpy(&v->n, p, 4);
    memcpy(&v->bytes, p + 4, 4);
    if ((size - BATCH_HEAD) / BATCH_ITEM < v->n ||
        size != BATCH_HEAD + (size_t)v->n * BATCH_ITEM + v->bytes)
        return -1;
    uint8_t *q = (uint8_t *)p + BATCH_HEAD;
    v->lens = q;
    v->kp = q + 4 * (size_t)v->n;
    v->ks = v->kp + 8 * (size_t)v->n;
    v->ref = v->ks + 8 * (size_t)v->n;
    v->via = v->ref + 4 * (size_t)v->n;
    v->recs = v->via + 4 * (size_t)v->n;
    return 0;
}

static inline uint32_t get_u32(const uint8_t *p, size_t i) {
    uint32_t x;
    memcpy(&x, p + 4 * i, 4);
    return x;
}
static inline int64_t get_i64(const uint8_t *p, size_t i) {
    int64_t x;
    memcpy(&x, p + 8 * i, 8);
    return x;
}
static inline void put_u32(uint8_t *p, size_t i, uint32_t x) { memcpy(p + 4 * i, &x, 4); }
static inline void put_i64(uint8_t *p, size_t i, int64_t x) { memcpy(p + 8 * i, &x, 8); }

/* split(start, me, count, keys, numbers[, mask, gil]) -> (batches, places): the states from `start` on
 * (those the last depth found) taken out of the store and put in one batch per process;
 * those of other processes stored again as copies, from `start` on, in the order found.
 * `keys`: u64 per thread number; `numbers`: i64 per state id, the parents' numbers.
 * `places[i]`: the copy's id for the i-th state taken, -1 for this process's own.
 * `mask` and `gil`: the partition (owner_of_record). */
static PyObject *Records_split(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 5 || nargs > 7) {
        PyErr_SetString(PyExc_TypeError, "split(start, me, count, keys, numbers[, mask, gil])");
        return NULL;
    }
    uint64_t mask;
    int gil;
    if (partition_args(args, nargs, 5, &mask, &gil) < 0) return NULL;
    Py_ssize_t start = PyLong_AsSsize_t(args[0]);
    Py_ssize_t me = PyLong_AsSsize_t(args[1]);
    Py_ssize_t count = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred()) return NULL;
    if (r->compact || r->busy || r->base) {
        PyErr_SetString(PyExc_RuntimeError, "split needs an exact store not in use");
        return NULL;
    }
    if (start < 0 || (size_t)start > r->count || count < 1 || count > 255 || me < 0 ||
        me >= count) {
        PyErr_SetString(PyExc_ValueError, "split: no such range or process");
        return NULL;
    }
    Py_buffer kb, nb;
    if (PyObject_GetBuffer(args[3], &kb, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[4], &nb, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&kb);
        return NULL;
    }
    const uint64_t *keys = kb.buf;
    size_t n_keys = (size_t)kb.len / 8, n_numbers = (size_t)nb.len / 8;
    const int64_t *numbers = nb.buf;
    size_t taken = r->count - (size_t)start;
    PyObject *batches = NULL, *places = NULL, *result = NULL;
    uint8_t *owner = PyMem_Malloc(taken ? taken : 1);
    uint64_t *hashes = PyMem_Malloc((taken ? taken : 1) * sizeof(uint64_t));
    int32_t *parents = PyMem_Malloc((taken ? taken : 1) * sizeof(int32_t));
    int32_t *vias = PyMem_Malloc((taken ? taken : 1) * sizeof(int32_t));
    size_t items[256] = {0}, bytes[256] = {0}, at[256] = {0}, rec_at[256] = {0};
    uint8_t *out[256] = {0};
    if (!owner || !hashes || !parents || !vias) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < taken; i++) {
        size_t sid = (size_t)start + i, len, a = record_at(r, sid, &len);
        Py_ssize_t o =
            owner_of_record(r->blob + a, len, keys, n_keys, (size_t)count, mask, gil);
        hashes[i] = hash_record(r->blob + a, len);
        int32_t parent = r->parent[sid];
        if (o < 0 || parent < 0 || (size_t)parent >= n_numbers || parent >= start) {
            PyErr_SetString(PyExc_ValueError, "split: a record without a key or a parent");
            goto done;
        }
        owner[i] = (uint8_t)o;
        parents[i] = parent;
        vias[i] = r->via[sid];
        items[o]++;
        bytes[o] += len;
    }
    batches = PyList_New(count);
    places = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(taken * 4));
    if (!batches || !places) goto done;
    for (Py_ssize_t o = 0; o < count; o++) {
        if (bytes[o] > UINT32_MAX) {
            PyErr_SetString(StoreFull, "a batch of records outgrew 4 GiB");
            goto done;
        }
        PyObject *b = PyBytes_FromStringAndSize(
            NULL, (Py_ssize_t)(BATCH_HEAD + items[o] * BATCH_ITEM + bytes[o]));
        if (!b) goto done;
        PyList_SET_ITEM(batches, o, b);
        out[o] = (uint8_t *)PyBytes_AS_STRING(b);
        uint32_t n32 = (uint32_t)items[o], b32 = (uint32_t)bytes[o];
        memcpy(out[o], &n32, 4);
        memcpy(out[o] + 4, &b32, 4);
    }
    for (size_t i = 0; i < taken; i++) {
        size_t o = owner[i], k = at[o]++, len, a = record_at(r, (size_t)start + i, &len);
        BatchView v;
        uint8_t *p = out[o];
        batch_view(p, BATCH_HEAD + items[o] * BATCH_ITEM + bytes[o], &v);
        put_u32(v.lens, k, (uint32_t)len);
        put_i64(v.kp, k, numbers[parents[i]]);
        put_i64(v.ks, k, (int64_t)i);
        put_u32(v.ref, k, (uint32_t)parents[i]);
        put_u32(v.via, k, (uint32_t)vias[i]);
        memcpy(v.recs + rec_at[o], r->blob + a, len);
        rec_at[o] += len;
    }
    /* Out of the index and the store, then the copies in again, in the order found.
     * Where every state went into the index in the order of the ids (one thread, so no
     * slots claimed at once), the newest are taken out newest first by emptying their
     * slots: no probe of an older state ever passed a newer one's slot. */
    int in_order = r->rounds_at_once == 0 && r->rounds_in_order == 0;
    for (size_t i = taken; i-- > 0;) {
        size_t sid = (size_t)start + i;
        if (!in_order) {
            unindex(r, sid);
            continue;
        }
        if (i >= AHEAD) __builtin_prefetch(&r->table[hashes[i - AHEAD] & r->mask], 1);
        size_t slot = hashes[i] & r->mask;
        while (r->table[slot] != (int32_t)sid) slot = (slot + 1) & r->mask;
        r->table[slot] = -1;
    }
    {
        size_t len;
        r->blob_len = record_at(r, (size_t)start, &len);
    }
    r->count = (size_t)start;
    memset(at, 0, sizeof at);
    memset(rec_at, 0, sizeof rec_at);
    int32_t *place = (int32_t *)PyBytes_AS_STRING(places);
    {
        size_t copies = taken - items[me];
        while ((r->count + copies) * 2 > r->mask)
            if (grow_table(r, NULL, 1) < 0) goto done;
    }
    for (size_t i = 0, ahead = 0; i < taken; i++) {
        for (; ahead < taken && ahead < i + AHEAD; ahead++)
            if (owner[ahead] != me) __builtin_prefetch(&r->table[hashes[ahead] & r->mask], 1);
        size_t o = owner[i], k = at[o]++;
        BatchView v;
        batch_view(out[o], BATCH_HEAD + items[o] * BATCH_ITEM + bytes[o], &v);
        size_t len = get_u32(v.lens, k);
        const uint8_t *rec = v.recs + rec_at[o];
        rec_at[o] += len;
        if ((Py_ssize_t)o == me) {
            place[i] = -1;
            continue;
        }
        Py_ssize_t before = (Py_ssize_t)r->count;
        Py_ssize_t sid = intern_exact(r, rec, len, hashes[i], parents[i], vias[i]);
        if (sid < 0) goto done;
        if (sid != before) {
            PyErr_SetString(PyExc_RuntimeError, "split: a state found twice in one depth");
            goto done;
        }
        place[i] = (int32_t)sid;
        put_u32(v.ref, k, (uint32_t)sid);
    }
    result = PyTuple_Pack(2, batches, places);
done:
    Py_XDECREF(batches);
    Py_XDECREF(places);
    PyMem_Free(owner);
    PyMem_Free(hashes);
    PyMem_Free(parents);
    PyMem_Free(vias);
    PyBuffer_Release(&kb);
    PyBuffer_Release(&nb);
    return result;
}

typedef struct {
    const uint8_t *rec;
    size_t at; /* where in the scratch area its translation is, or SIZE_MAX */
    size_t item, len;
    uint64_t hash;
    int64_t kp, ks;
    int source;
} Merged;

/* Where a record's part numbers are (u32 each): `at` gets their offsets (the vars, locks
 * and channels parts, and the extended part if any), `n` the thread count; how many
 * parts, or -1 for a malformed record. */
static int part_offsets(const uint8_t *rec, size_t len, Py_ssize_t *n, size_t at[4]) {
    int extended;
    *n = record_threads(rec, len, &extended);
    if (*n < 0) return -1;
    int k = 0;
    for (; k < 3; k++) at[k] = 2 + 4 * (size_t)*n + 2 + 4 * (size_t)k;
    if (extended) at[k++] = len - 4;
    return k;
}

/* A record of another process translated in place to this one's numbers (`tmap`: i32 per
 * the sender's thread number, `pmap` per its part number); -1 for a number not told. */
static int translate(uint8_t *rec, size_t len, const int32_t *tmap, size_t tn,
                     const int32_t *pmap, size_t pn) {
    Py_ssize_t n;
    size_t at[4];
    int parts = part_offsets(rec, len, &n, at);
    if (parts < 0) return -1;
    for (Py_ssize_t t = 0; t < n; t++) {
        uint32_t x = get_u32(rec + 2, (size_t)t);
        if (x >= tn || tmap[x] < 0) return -1;
        put_u32(rec + 2, (size_t)t, (uint32_t)tmap[x]);
    }
    for (int j = 0; j < parts; j++) {
        uint32_t x = get_u32(rec + at[j], 0);
        if (x >= pn || pmap[x] < 0) return -1;
        put_u32(rec + at[j], 0, (uint32_t)pmap[x]);
    }
    return 0;
}

/* merge(sources, me, places) -> (key parents, key places, finders, ids): store the states
 * of batches (one per source: (process, batch, thread map, part map); the maps, i32 per
 * the sender's number, translate its records to this process's numbers; None: its own),
 * in the order of their keys, so that where several processes found a state, its parent
 * is the one the one-process search finds it from. A state of this process's own batch
 * is stored with its parent and first action; one another sent, with the copy's id at its
 * sender as its parent and no action (the step is the copy's). `places` (i32 per state
 * `split` took): this process's own states' ids are written there. Returned: the new
 * states' keys (i64 each), the process each came from (u8 each), and per source the ids
 * its states have here (i32 each). */
static PyObject *Records_merge(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "merge(sources: list, me, places)");
        return NULL;
    }
    Py_ssize_t me = PyLong_AsSsize_t(args[1]);
    if (me == -1 && PyErr_Occurred()) return NULL;
    if (r->compact || r->busy || r->base) {
        PyErr_SetString(PyExc_RuntimeError, "merge needs an exact store not in use");
        return NULL;
    }
    Py_ssize_t k = PyList_GET_SIZE(args[0]);
    if (k > 256) {
        PyErr_SetString(PyExc_ValueError, "merge: at most 256 sources");
        return NULL;
    }
    Py_buffer pb;
    if (PyObject_GetBuffer(args[2], &pb, PyBUF_WRITABLE) < 0) return NULL;
    int32_t *places = pb.buf;
    size_t n_places = (size_t)pb.len / 4;
    Py_buffer bb[256], tb[256], qb[256];
    int held_b[256] = {0}, held_t[256] = {0}, held_q[256] = {0};
    BatchView v[256];
    size_t head[256] = {0}, rec_at[256] = {0};
    int worker[256];
    PyObject *result = NULL, *ids = NULL;
    uint8_t *scratch = NULL;
    size_t scratch_cap = 0, total = 0;
    int64_t *new_kp = NULL, *new_ks = NULL;
    uint8_t *new_from = NULL;
    size_t n_new = 0;
    for (Py_ssize_t s = 0; s < k; s++) {
        PyObject *src = PyList_GET_ITEM(args[0], s);
        if (!PyTuple_Check(src) || PyTuple_GET_SIZE(src) != 4) {
            PyErr_SetString(PyExc_TypeError, "merge: a source is (process, batch, threads, parts)");
            goto done;
        }
        long w = PyLong_AsLong(PyTuple_GET_ITEM(src, 0));
        if (w == -1 && PyErr_Occurred()) goto done;
        if (w < 0 || w > 255) {
            PyErr_SetString(PyExc_ValueError, "merge: no such process");
            goto done;
        }
        worker[s] = (int)w;
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(src, 1), &bb[s], PyBUF_SIMPLE) < 0) goto done;
        held_b[s] = 1;
        if (batch_view(bb[s].buf, (size_t)bb[s].len, &v[s]) < 0) {
            PyErr_SetString(PyExc_ValueError, "merge: a malformed batch");
            goto done;
        }
        if (PyTuple_GET_ITEM(src, 2) != Py_None) {
            if (PyObject_GetBuffer(PyTuple_GET_ITEM(src, 2), &tb[s], PyBUF_SIMPLE) < 0) goto done;
            held_t[s] = 1;
        }
        if (PyTuple_GET_ITEM(src, 3) != Py_None) {
            if (PyObject_GetBuffer(PyTuple_GET_ITEM(src, 3), &qb[s], PyBUF_SIMPLE) < 0) goto done;
            held_q[s] = 1;
        }
        if (held_t[s] != held_q[s] || (w == me) == held_t[s]) {
            PyErr_SetString(PyExc_ValueError, "merge: maps for another's batch only");
            goto done;
        }
        total += v[s].n;
    }
    ids = PyList_New(k);
    new_kp = PyMem_Malloc((total ? total : 1) * 8);
    new_ks = PyMem_Malloc((total ? total : 1) * 8);
    new_from = PyMem_Malloc(total ? total : 1);
    if (!ids || !new_kp || !new_ks || !new_from) {
        if (ids) PyErr_NoMemory();
        goto done;
    }
    int32_t *out_ids[256];
    for (Py_ssize_t s = 0; s < k; s++) {
        PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)v[s].n * 4);
        if (!b) goto done;
        PyList_SET_ITEM(ids, s, b);
        out_ids[s] = (int32_t *)PyBytes_AS_STRING(b);
    }
    /* 1. The order of the keys, each record translated (into `scratch`) and hashed; */
    Merged *order = PyMem_Malloc((total ? total : 1) * sizeof(Merged));
    if (!order) {
        PyErr_NoMemory();
        goto done;
    }
    size_t scratch_len = 0;
    for (size_t at = 0;; at++) {
        Py_ssize_t best = -1;
        int64_t bp = 0, bs = 0;
        for (Py_ssize_t s = 0; s < k; s++) {
            if (head[s] >= v[s].n) continue;
            int64_t p = get_i64(v[s].kp, head[s]), q = get_i64(v[s].ks, head[s]);
            if (best < 0 || p < bp || (p == bp && q < bs)) {
                best = s;
                bp = p;
                bs = q;
            }
        }
        if (best < 0) break;
        size_t i = head[best]++;
        size_t len = get_u32(v[best].lens, i);
        const uint8_t *rec = v[best].recs + rec_at[best];
        rec_at[best] += len;
        if (rec_at[best] > v[best].bytes) {
            PyErr_SetString(PyExc_ValueError, "merge: a malformed batch");
            PyMem_Free(order);
            goto done;
        }
        Merged *m = &order[at];
        m->source = (int)best;
        m->item = i;
        m->len = len;
        m->kp = bp;
        m->ks = bs;
        m->rec = rec;
        m->at = SIZE_MAX;
        if (held_t[best]) { /* another's numbers: this process's */
            if (scratch_len + len > scratch_cap) {
                size_t cap = scratch_cap ? scratch_cap * 2 : 1 << 16;
                while (cap < scratch_len + len) cap *= 2;
                uint8_t *grown = PyMem_Realloc(scratch, cap);
                if (!grown) {
                    PyErr_NoMemory();
                    PyMem_Free(order);
                    goto done;
                }
                scratch = grown;
                scratch_cap = cap;
            }
            uint8_t *copy = scratch + scratch_len;
            memcpy(copy, rec, len);
            if (translate(copy, len, tb[best].buf, (size_t)tb[best].len / 4, qb[best].buf,
                          (size_t)qb[best].len / 4) < 0) {
                PyErr_SetString(PyExc_ValueError, "merge: a record with an unknown number");
                PyMem_Free(order);
                goto done;
            }
            m->at = scratch_len;
            scratch_len += len;
        }
    }
    for (size_t at = 0; at < total; at++) {
        Merged *m = &order[at];
        if (m->at != SIZE_MAX) m->rec = scratch + m->at;
        m->hash = hash_record(m->rec, m->len);
    }
    /* 2. stored in that order, the index slots loading ahead. */
    while ((r->count + total) * 2 > r->mask)
        if (grow_table(r, NULL, 1) < 0) {
            PyMem_Free(order);
            goto done;
        }
    for (size_t at = 0; at < total; at++) {
        if (at + AHEAD < total) __builtin_prefetch(&r->table[order[at + AHEAD].hash & r->mask]);
        Merged *m = &order[at];
        int s = m->source;
        int32_t parent = (int32_t)get_u32(v[s].ref, m->item);
        int32_t via = held_t[s] ? -1 : (int32_t)get_u32(v[s].via, m->item);
        size_t before = r->count;
        Py_ssize_t sid = intern_exact(r, m->rec, m->len, m->hash, parent, via);
        if (sid < 0) {
            PyMem_Free(order);
            goto done;
        }
        out_ids[s][m->item] = (int32_t)sid;
        if (!held_t[s]) {
            if (m->ks < 0 || (size_t)m->ks >= n_places) {
                PyErr_SetString(PyExc_ValueError, "merge: a place out of range");
                PyMem_Free(order);
                goto done;
            }
            places[m->ks] = (int32_t)sid;
        }
        if (r->count > before) {
            new_kp[n_new] = m->kp;
            new_ks[n_new] = m->ks;
            new_from[n_new] = (uint8_t)worker[s];
            n_new++;
        }
    }
    PyMem_Free(order);
    result = Py_BuildValue("(y#y#y#O)", (const char *)new_kp, (Py_ssize_t)(n_new * 8),
                           (const char *)new_ks, (Py_ssize_t)(n_new * 8),
                           (const char *)new_from, (Py_ssize_t)n_new, ids);
done:
    Py_XDECREF(ids);
    for (Py_ssize_t s = 0; s < k; s++) {
        if (held_b[s]) PyBuffer_Release(&bb[s]);
        if (held_t[s]) PyBuffer_Release(&tb[s]);
        if (held_q[s]) PyBuffer_Release(&qb[s]);
    }
    PyBuffer_Release(&pb);
    PyMem_Free(scratch);
    PyMem_Free(new_kp);
    PyMem_Free(new_ks);
    PyMem_Free(new_from);
    return result;
}

/* The buffers of `objects`, writable where `modes[i]` is 'w': all of them held (0), or
 * none (-1, an exception set). */
static int hold_buffers(PyObject *const *objects, Py_buffer *views, const char *modes, int n) {
    for (int i = 0; i < n; i++) {
        int flags = modes[i] == 'w' ? PyBUF_WRITABLE : PyBUF_SIMPLE;
        if (PyObject_GetBuffer(objects[i], &views[i], flags) < 0) {
            while (i-- > 0) PyBuffer_Release(&views[i]);
            return -1;
        }
    }
    return 0;
}

static void release_buffers(Py_buffer *views, int n) {
    for (int i = 0; i < n; i++) PyBuffer_Release(&views[i]);
}

/* ranks(first, keys) -> numbers: `keys` per process, (key parents, key places) (i64 each,
 * each process's in order); each state numbered from `first` in the order of the keys
 * across the processes (i64 each, per process). */
static PyObject *ranks(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "ranks(first, keys: list)");
        return NULL;
    }
    int64_t first = PyLong_AsLongLong(args[0]);
    if (first == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t k = PyList_GET_SIZE(args[1]);
    if (k > 256) {
        PyErr_SetString(PyExc_ValueError, "ranks: at most 256 processes");
        return NULL;
    }
    Py_buffer pb[256], qb[256];
    Py_ssize_t held = 0;
    size_t head[256] = {0}, n[256];
    PyObject *out = PyList_New(k), *result = NULL;
    if (!out) return NULL;
    int64_t *numbers[256];
    for (; held < k; held++) {
        PyObject *pair = PyList_GET_ITEM(args[1], held);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "ranks: keys are (parents, places) pairs");
            goto done;
        }
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(pair, 0), &pb[held], PyBUF_SIMPLE) < 0) goto done;
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(pair, 1), &qb[held], PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&pb[held]);
            goto done;
        }
        n[held] = (size_t)pb[held].len / 8;
        if ((size_t)qb[held].len / 8 != n[held]) {
            PyErr_SetString(PyExc_ValueError, "ranks: parents and places differ in length");
            held++;
            goto done;
        }
        PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n[held] * 8));
        if (!b) {
            held++;
            goto done;
        }
        PyList_SET_ITEM(out, held, b);
        numbers[held] = (int64_t *)PyBytes_AS_STRING(b);
    }
    for (int64_t rank = first;; rank++) {
        Py_ssize_t best = -1;
        int64_t bp = 0, bs = 0;
        for (Py_ssize_t s = 0; s < k; s++) {
            if (head[s] >= n[s]) continue;
            int64_t p = ((const int64_t *)pb[s].buf)[head[s]];
            int64_t q = ((const int64_t *)qb[s].buf)[head[s]];
            if (best < 0 || p < bp || (p == bp && q < bs)) {
                best = s;
                bp = p;
                bs = q;
            }
        }
        if (best < 0) break;
        numbers[best][head[best]++] = rank;
    }
    result = Py_NewRef(out);
done:
    for (Py_ssize_t s = 0; s < held; s++) {
        PyBuffer_Release(&pb[s]);
        PyBuffer_Release(&qb[s]);
    }
    Py_DECREF(out);
    return result;
}

/* renumber(ids, start, places): in `ids` (i32, writable), each id from `start` on
 * replaced by places[id - start] (`split` took those states and stored them again). */
static PyObject *renumber(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "renumber(ids, start, places)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    Py_buffer b[2];
    PyObject *const objects[2] = {args[0], args[2]};
    if (hold_buffers(objects, b, "wr", 2) < 0) return NULL;
    int32_t *ids = b[0].buf;
    const int32_t *places = b[1].buf;
    size_t n = (size_t)b[0].len / 4, m = (size_t)b[1].len / 4;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < start) continue;
        size_t at = (size_t)(ids[i] - start);
        if (at >= m || places[at] < 0) bad = 1;
        else ids[i] = places[at];
    }
    release_buffers(b, 2);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "renumber: an id with no new place");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* numbered_edges(starts, dst, expanded, numbers) -> (sources, targets): a process's edges
 * (its log: u32 starts, one per state it expanded, the ids of which are `expanded`, i32;
 * i32 targets) with every state named by its number (`numbers`, i64 per id): i32 each. */
static PyObject *numbered_edges(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "numbered_edges(starts, dst, expanded, numbers)");
        return NULL;
    }
    Py_buffer b[4];
    PyObject *result = NULL;
    if (hold_buffers(args, b, "rrrr", 4) < 0) return NULL;
    const uint32_t *starts = b[0].buf;
    const int32_t *dst = b[1].buf, *expanded = b[2].buf;
    const int64_t *numbers = b[3].buf;
    size_t n_starts = (size_t)b[0].len / 4, n_edges = (size_t)b[1].len / 4;
    size_t n_numbers = (size_t)b[3].len / 8;
    if ((size_t)b[2].len / 4 != n_starts) {
        PyErr_SetString(PyExc_ValueError, "numbered_edges: a start per expanded state");
        goto done;
    }
    PyObject *src_b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n_edges * 4));
    PyObject *dst_b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n_edges * 4));
    if (!src_b || !dst_b) {
        Py_XDECREF(src_b);
        Py_XDECREF(dst_b);
        goto done;
    }
    int32_t *so = (int32_t *)PyBytes_AS_STRING(src_b), *to = (int32_t *)PyBytes_AS_STRING(dst_b);
    int bad = 0;
    for (size_t s = 0; s < n_starts && !bad; s++) {
        size_t end = s + 1 < n_starts ? starts[s + 1] : n_edges;
        int32_t from = expanded[s];
        if (from < 0 || (size_t)from >= n_numbers || end > n_edges || starts[s] > end) {
            bad = 1;
            break;
        }
        for (size_t i = starts[s]; i < end; i++) {
            int32_t t = dst[i];
            if (t < 0 || (size_t)t >= n_numbers || numbers[t] < 0 || numbers[t] > INT32_MAX) {
                bad = 1;
                break;
            }
            so[i] = (int32_t)numbers[from];
            to[i] = (int32_t)numbers[t];
        }
    }
    if (n_starts && starts[0] != 0) bad = 1;
    if (bad) {
        Py_DECREF(src_b);
        Py_DECREF(dst_b);
        PyErr_SetString(PyExc_ValueError, "numbered_edges: an edge of an unnumbered state");
        goto done;
    }
    result = PyTuple_Pack(2, src_b, dst_b);
    Py_DECREF(src_b);
    Py_DECREF(dst_b);
done:
    release_buffers(b, 4);
    return result;
}

/* by_source(n, parts) -> (starts, targets): the edges of several processes, each a pair
 * (sources, targets) of i32 numbers below `n`, as one log by source (u32 starts, n of
 * them; i32 targets), each source's in the order its process listed them. */
static PyObject *by_source(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "by_source(n, parts: list)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[0]);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 0 || n > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "by_source: too many states");
        return NULL;
    }
    Py_ssize_t k = PyList_GET_SIZE(args[1]);
    Py_buffer *sb = PyMem_Calloc(k ? (size_t)k : 1, sizeof(Py_buffer));
    Py_buffer *db = PyMem_Calloc(k ? (size_t)k : 1, sizeof(Py_buffer));
    uint32_t *fill = PyMem_Calloc((size_t)n + 1, sizeof(uint32_t));
    Py_ssize_t held = 0;
    PyObject *result = NULL, *starts_b = NULL, *targets_b = NULL;
    size_t total = 0;
    if (!sb || !db || !fill) {
        PyErr_NoMemory();
        goto done;
    }
    for (; held < k; held++) {
        PyObject *pair = PyList_GET_ITEM(args[1], held);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "by_source: parts are (sources, targets)");
            goto done;
        }
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(pair, 0), &sb[held], PyBUF_SIMPLE) < 0) goto done;
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(pair, 1), &db[held], PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&sb[held]);
            goto done;
        }
        if (sb[held].len != db[held].len) {
            held++;
            PyErr_SetString(PyExc_ValueError, "by_source: a source per target");
            goto done;
        }
        const int32_t *src = sb[held].buf, *dst = db[held].buf;
        size_t m = (size_t)sb[held].len / 4;
        for (size_t i = 0; i < m; i++) {
            if (src[i] < 0 || src[i] >= n || dst[i] < 0 || dst[i] >= n) {
                held++;
                PyErr_SetString(PyExc_ValueError, "by_source: an edge of no such state");
                goto done;
            }
            fill[src[i] + 1]++;
        }
        total += m;
    }
    if (total > UINT32_MAX) {
        PyErr_SetString(StoreFull, "more than 4 G edges");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) fill[i + 1] += fill[i];
    starts_b = PyBytes_FromStringAndSize((const char *)fill, n * 4);
    targets_b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total * 4));
    if (!starts_b || !targets_b) goto done;
    int32_t *targets = (int32_t *)PyBytes_AS_STRING(targets_b);
    for (Py_ssize_t s = 0; s < k; s++) {
        const int32_t *src = sb[s].buf, *dst = db[s].buf;
        size_t m = (size_t)sb[s].len / 4;
        for (size_t i = 0; i < m; i++) targets[fill[src[i]]++] = dst[i];
    }
    result = PyTuple_Pack(2, starts_b, targets_b);
done:
    Py_XDECREF(starts_b);
    Py_XDECREF(targets_b);
    for (Py_ssize_t s = 0; s < held; s++) {
        PyBuffer_Release(&sb[s]);
        PyBuffer_Release(&db[s]);
    }
    PyMem_Free(sb);
    PyMem_Free(db);
    PyMem_Free(fill);
    return result;
}

/* untold(batch, threads, parts) -> (thread numbers, part numbers): the numbers the
 * batch's records name that `threads` and `parts` (one byte per number, writable: what
 * was told the batch's receiver) do not mark yet, marked now; u32 each, in order met. */
static PyObject *untold(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "untold(batch, threads, parts)");
        return NULL;
    }
    Py_buffer held[3];
    if (hold_buffers(args, held, "rww", 3) < 0) return NULL;
    Py_buffer bb = held[0], tb = held[1], pb = held[2];
    PyObject *result = NULL;
    uint32_t *got_t = NULL, *got_p = NULL;
    size_t n_t = 0, n_p = 0;
    uint8_t *told_t = tb.buf, *told_p = pb.buf;
    size_t len_t = (size_t)tb.len, len_p = (size_t)pb.len;
    BatchView v;
    if (batch_view(bb.buf, (size_t)bb.len, &v) < 0) {
        PyErr_SetString(PyExc_ValueError, "untold: a malformed batch");
        goto done;
    }
    /* at most every thread and part once */
    got_t = PyMem_Malloc((len_t ? len_t : 1) * 4);
    got_p = PyMem_Malloc((len_p ? len_p : 1) * 4);
    if (!got_t || !got_p) {
        PyErr_NoMemory();
        goto done;
    }
    size_t at = 0;
    for (size_t i = 0; i < v.n; i++) {
        size_t len = get_u32(v.lens, i);
        if (at + len > v.bytes) {
            PyErr_SetString(PyExc_ValueError, "untold: a malformed batch");
            goto done;
        }
        const uint8_t *rec = v.recs + at;
        at += len;
        Py_ssize_t n;
        size_t part_at[4];
        int parts = part_offsets(rec, len, &n, part_at);
        if (parts < 0) {
            PyErr_SetString(PyExc_ValueError, "untold: a malformed record");
            goto done;
        }
        for (Py_ssize_t t = 0; t < n; t++) {
            uint32_t x = get_u32(rec + 2, (size_t)t);
            if (x >= len_t) goto unknown;
            if (!told_t[x]) {
                told_t[x] = 1;
                got_t[n_t++] = x;
            }
        }
        for (int j = 0; j < parts; j++) {
            uint32_t x = get_u32(rec + part_at[j], 0);
            if (x >= len_p) goto unknown;
            if (!told_p[x]) {
                told_p[x] = 1;
                got_p[n_p++] = x;
            }
        }
    }
    result = Py_BuildValue("(y#y#)", (const char *)got_t, (Py_ssize_t)(n_t * 4),
                           (const char *)got_p, (Py_ssize_t)(n_p * 4));
    goto done;
unknown:
    PyErr_SetString(PyExc_ValueError, "untold: a number beyond what was marked");
done:
    PyMem_Free(got_t);
    PyMem_Free(got_p);
    release_buffers(held, 3);
    return result;
}

/* gather(values, ids) -> bytes: values[id] (i64 each) for each id (i32 each). */
static PyObject *gather(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "gather(values, ids)");
        return NULL;
    }
    Py_buffer b[2];
    if (hold_buffers(args, b, "rr", 2) < 0) return NULL;
    const int64_t *values = b[0].buf;
    const int32_t *ids = b[1].buf;
    size_t n = (size_t)b[1].len / 4, m = (size_t)b[0].len / 8;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
    if (out) {
        int64_t *to = (int64_t *)PyBytes_AS_STRING(out);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] < 0 || (size_t)ids[i] >= m) {
                Py_CLEAR(out);
                PyErr_SetString(PyExc_IndexError, "gather: no such id");
                break;
            }
            to[i] = values[ids[i]];
        }
    }
    release_buffers(b, 2);
    return out;
}

/* scatter(values, ids, new): values[ids[i]] = new[i] (values: i64, writable; ids: i32). */
static PyObject *scatter(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "scatter(values, ids, new)");
        return NULL;
    }
    Py_buffer b[3];
    if (hold_buffers(args, b, "wrr", 3) < 0) return NULL;
    int64_t *values = b[0].buf;
    const int32_t *ids = b[1].buf;
    const int64_t *new_values = b[2].buf;
    size_t n = (size_t)b[1].len / 4, m = (size_t)b[0].len / 8;
    int bad = (size_t)b[2].len / 8 != n;
    for (size_t i = 0; i < n && !bad; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= m) bad = 1;
        else values[ids[i]] = new_values[i];
    }
    release_buffers(b, 3);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "scatter: an id out of range, or not one value per id");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* owner(record, keys, count[, mask, gil]) -> which of `count` processes owns the state
 * (see split). */
static PyObject *record_owner(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 3 || nargs > 5 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "owner(record: bytes, keys, count[, mask, gil])");
        return NULL;
    }
    uint64_t mask;
    int gil;
    if (partition_args(args, nargs, 3, &mask, &gil) < 0) return NULL;
    Py_ssize_t count = PyLong_AsSsize_t(args[2]);
    if (count == -1 && PyErr_Occurred()) return NULL;
    if (count < 1 || count > 255) {
        PyErr_SetString(PyExc_ValueError, "owner: 1 to 255 processes");
        return NULL;
    }
    Py_buffer kb;
    if (PyObject_GetBuffer(args[1], &kb, PyBUF_SIMPLE) < 0) return NULL;
    Py_ssize_t o = owner_of_record((const uint8_t *)PyBytes_AS_STRING(args[0]),
                                   (size_t)PyBytes_GET_SIZE(args[0]), kb.buf,
                                   (size_t)kb.len / 8, (size_t)count, mask, gil);
    PyBuffer_Release(&kb);
    if (o < 0) {
        PyErr_SetString(PyExc_ValueError, "owner: a record with a thread without a key");
        return NULL;
    }
    return PyLong_FromSsize_t(o);
}

/* busiest(records, lengths, ends, keys, count[, mask, gil]) -> the sum over the levels of
 * the most states one of `count` processes owns: `records` end to end, `lengths` (u32)
 * each one's length, `ends` (u32) where each level's records end. */
static PyObject *busiest(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 5 || nargs > 7) {
        PyErr_SetString(PyExc_TypeError,
                        "busiest(records, lengths, ends, keys, count[, mask, gil])");
        return NULL;
    }
    Py_ssize_t count = PyLong_AsSsize_t(args[4]);
    if (count == -1 && PyErr_Occurred()) return NULL;
    uint64_t mask;
    int gil;
    if (partition_args(args, nargs, 5, &mask, &gil) < 0) return NULL;
    if (count < 1 || count > 255) {
        PyErr_SetString(PyExc_ValueError, "busiest: 1 to 255 processes");
        return NULL;
    }
    Py_buffer views[4];
    if (hold_buffers(args, views, "rrrr", 4) < 0) return NULL;
    const uint8_t *blob = views[0].buf;
    const uint32_t *lengths = views[1].buf, *ends = views[2].buf;
    size_t n_records = (size_t)views[1].len / 4, n_levels = (size_t)views[2].len / 4;
    size_t n_keys = (size_t)views[3].len / 8, at = 0, i = 0, total = 0;
    for (size_t level = 0; level < n_levels; level++) {
        size_t loads[256] = {0}, most = 0;
        if (ends[level] > n_records || ends[level] < i) goto malformed;
        for (; i < ends[level]; i++) {
            if (lengths[i] > (size_t)views[0].len - at) goto malformed;
            Py_ssize_t o = owner_of_record(blob + at, lengths[i], views[3].buf, n_keys,
                                           (size_t)count, mask, gil);
            if (o < 0) goto malformed;
            at += lengths[i];
            if (++loads[o] > most) most = loads[o];
        }
        total += most;
    }
    release_buffers(views, 4);
    return PyLong_FromSize_t(total);
malformed:
    PyErr_SetString(PyExc_ValueError, "busiest: malformed records");
    release_buffers(views, 4);
    return NULL;
}

static PyMethodDef Records_methods[] = {
    {"use_fingerprints", (PyCFunction)Records_use_fingerprints, METH_NOARGS,
     "use_fingerprints(): keep 64-bit fingerprints, not records (hash compaction)"},
    {"forget", (PyCFunction)Records_forget, METH_O,
     "forget(upto): drop the records of the states before `upto`"},
    {"sizes", (PyCFunction)Records_sizes, METH_NOARGS,
     "sizes() -> (records, index, links): bytes in use by each"},
    {"intern", (PyCFunction)(void (*)(void))Records_intern, METH_FASTCALL,
     "intern(record, parent, via) -> id: the state's id, stored first if new"},
    {"record", (PyCFunction)Records_record, METH_O, "record(id) -> bytes"},
    {"split", (PyCFunction)(void (*)(void))Records_split, METH_FASTCALL,
     "split(start, me, count, keys, numbers[, mask, gil]) -> (batches, places): a depth's "
     "states by owner"},
    {"merge", (PyCFunction)(void (*)(void))Records_merge, METH_FASTCALL,
     "merge(sources, me, places) -> (key parents, key places, finders, ids)"},
    {"parent", (PyCFunction)Records_parent, METH_O, "parent(id) -> the id it was found from"},
    {"via", (PyCFunction)Records_via, METH_O, "via(id) -> the number of its first action"},
    {"tune", (PyCFunction)(void (*)(void))Records_tune, METH_FASTCALL,
     "tune(streak, per_worker[, most_bytes[, scan_per_thread]]): when and how several threads "
     "start (and, for tests, a lower limit of the records' bytes, and how few states each "
     "thread of `missing` takes)"},
    {"rounds", (PyCFunction)Records_rounds, METH_NOARGS,
     "rounds() -> (at once, in order, derived, derived ahead): how the rounds of several "
     "threads went"},
    {"missing", (PyCFunction)(void (*)(void))Records_missing, METH_FASTCALL,
     "missing(sid, stop, entries[, threads]) -> (ids of the states with a thread without an "
     "entry, where the scan ended)"},
    {"expand", (PyCFunction)(void (*)(void))Records_expand, METH_FASTCALL,
     "expand(sid, stop, max_states, entries, flags (1: ample, 2: persistent sets, 4: entries "
     "made ahead), starts, dst, "
     "dst_len, canon, threads) -> "
     "(next sid, expanded, transitions)"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Records_as_sequence = {
    .sq_length = (lenfunc)Records_len,
};

static PyTypeObject RecordsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gilcheck.explore._records.Records",
    .tp_basicsize = sizeof(Records),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Stored states' records, their index, parents and first actions.",
    .tp_new = Records_new,
    .tp_dealloc = (destructor)Records_dealloc,
    .tp_methods = Records_methods,
    .tp_as_sequence = &Records_as_sequence,
};

/* sinks_if_all_reach_one(n, starts, dst, passes) -> list | None: analysis/cycles.py's
 * function of that name (the reference) over the edge log's arrays (4-byte items). */
static PyObject *sinks_if_all_reach_one(PyObject *module, PyObject *const *args,
                                        Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "sinks_if_all_reach_one(n, starts, dst, passes)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[0]);
    if (n == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t passes = PyLong_AsSsize_t(args[3]);
    if (passes == -1 && PyErr_Occurred()) return NULL;
    Py_buffer sb, db;
    if (PyObject_GetBuffer(args[1], &sb, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[2], &db, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&sb);
        return NULL;
    }
    PyObject *result = NULL;
    uint8_t *reach = NULL;
    const uint32_t *starts = sb.buf;
    const int32_t *dst = db.buf;
    size_t expanded = (size_t)sb.len / 4, edges = (size_t)db.len / 4;
    if (n < 0 || expanded > (size_t)n) {
        PyErr_SetString(PyExc_ValueError, "more expanded states than states");
        goto done;
    }
    reach = PyMem_Calloc(n ? (size_t)n : 1, 1);
    if (!reach) {
        PyErr_NoMemory();
        goto done;
    }
    size_t left = 0;
    for (size_t s = 0; s < (size_t)n; s++) {
        if (s >= expanded || (s + 1 < expanded ? starts[s + 1] : edges) == starts[s])
            reach[s] = 1;
        else
            left++;
    }
    for (Py_ssize_t pass = 0; pass < passes && left; pass++) {
        size_t before = left;
        for (size_t s = expanded; s-- > 0;) {
            if (reach[s]) continue;
            size_t end = s + 1 < expanded ? starts[s + 1] : edges;
            for (size_t i = starts[s]; i < end && i < edges; i++) {
                int32_t t = dst[i];
                if (t >= 0 && t < n && reach[t]) {
                    reach[s] = 1;
                    left--;
                    break;
                }
            }
        }
        if (left == before) break;
    }
    if (left) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    result = PyList_New(0);
    for (size_t s = 0; result && s < (size_t)n; s++) {
        if (s >= expanded || (s + 1 < expanded ? starts[s + 1] : edges) == starts[s]) {
            PyObject *id = PyLong_FromSize_t(s);
            if (!id || PyList_Append(result, id) < 0) Py_CLEAR(result);
            Py_XDECREF(id);
        }
    }
done:
    PyMem_Free(reach);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&db);
    return result;
}

static PyMethodDef module_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL,
     "configure(StoreFull, INTERPRET)"},
    {"sinks_if_all_reach_one", (PyCFunction)(void (*)(void))sinks_if_all_reach_one,
     METH_FASTCALL, "sinks_if_all_reach_one(n, starts, dst, passes) -> list | None"},
    {"ranks", (PyCFunction)(void (*)(void))ranks, METH_FASTCALL,
     "ranks(first, keys) -> the numbers of each process's new states"},
    {"renumber", (PyCFunction)(void (*)(void))renumber, METH_FASTCALL,
     "renumber(ids, start, places): ids of states `split` moved, replaced"},
    {"numbered_edges", (PyCFunction)(void (*)(void))numbered_edges, METH_FASTCALL,
     "numbered_edges(starts, dst, expanded, numbers) -> (sources, targets)"},
    {"by_source", (PyCFunction)(void (*)(void))by_source, METH_FASTCALL,
     "by_source(n, parts) -> (starts, targets)"},
    {"untold", (PyCFunction)(void (*)(void))untold, METH_FASTCALL,
     "untold(batch, threads, parts) -> the numbers its records name not told yet"},
    {"gather", (PyCFunction)(void (*)(void))gather, METH_FASTCALL,
     "gather(values, ids) -> values[id] for each id"},
    {"scatter", (PyCFunction)(void (*)(void))scatter, METH_FASTCALL,
     "scatter(values, ids, new): values[id] = new value, for each id"},
    {"owner", (PyCFunction)(void (*)(void))record_owner, METH_FASTCALL,
     "owner(record, keys, count[, mask, gil]) -> the process that owns the state"},
    {"busiest", (PyCFunction)(void (*)(void))busiest, METH_FASTCALL,
     "busiest(records, lengths, ends, keys, count[, mask, gil]) -> the busiest process's "
     "states, summed over levels"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "gilcheck.explore._records", "gilcheck's state records in C.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__records(void) {
    if (PyType_Ready(&RecordsType) < 0 || PyType_Ready(&EntriesType) < 0 ||
        PyType_Ready(&CanonType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (!module) return NULL;
    if (!StoreFull) StoreFull = Py_NewRef(PyExc_OverflowError);
    Py_INCREF(&RecordsType);
    if (PyModule_AddObject(module, "Records", (PyObject *)&RecordsType) < 0) {
        Py_DECREF(&RecordsType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&EntriesType);
    if (PyModule_AddObject(module, "Entries", (PyObject *)&EntriesType) < 0) {
        Py_DECREF(&EntriesType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&CanonType);
    if (PyModule_AddObject(module, "Canon", (PyObject *)&CanonType) < 0) {
        Py_DECREF(&CanonType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

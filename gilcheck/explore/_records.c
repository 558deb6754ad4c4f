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

static PyObject *StoreFull = NULL;    /* gilcheck.explore.store.StoreFull */
static PyObject *Interpret = NULL;    /* steptable._INTERPRET */

/* `expand` makes the successors of this many states before storing them, so that the
 * memory their lookups touch loads together. */
#define BATCH 32

typedef struct Made {
    uint64_t hash;
    int32_t via;
} Made;

typedef struct NEntry NEntry; /* a step-table entry in C (below) */

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
    uint8_t *scratch;   /* the successors' records of the states being expanded */
    size_t scratch_cap;
    NEntry **entries;   /* the step-table entries of a state's threads */
    size_t entries_cap;
    struct Patch *steps; /* its steps */
    size_t steps_cap;
    struct Made *made;   /* the successors of a batch of states: hash and first action */
    size_t made_cap;
    size_t batch_count[BATCH], batch_len[BATCH]; /* each state's successors, their length */
    int busy;           /* in `expand`: no other call may change the records */
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

static int grow_table(Records *r) {
    size_t size = (r->mask + 1) * 2;
    int32_t *table = PyMem_Malloc(size * sizeof(int32_t));
    if (!table) {
        PyErr_NoMemory();
        return -1;
    }
    memset(table, 0xFF, size * sizeof(int32_t));
    size_t mask = size - 1;
    for (size_t sid = 0; sid < r->count; sid++) {
        size_t len, a = record_at(r, sid, &len);
        size_t slot = hash_record(r->blob + a, len) & mask;
        while (table[slot] >= 0) slot = (slot + 1) & mask;
        table[slot] = (int32_t)sid;
    }
    PyMem_Free(r->table);
    r->table = table;
    r->mask = mask;
    return 0;
}

static int reserve_states(Records *r) {
    if (r->count < r->cap) return 0;
    /* grown by a quarter: realloc moves large areas by remapping pages, and doubling
     * would leave up to half of them unused */
    size_t cap = r->cap ? r->cap + r->cap / 4 : 4096;
    if (cap > (size_t)INT32_MAX) cap = (size_t)INT32_MAX;
    if (r->count >= cap) {
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

static int reserve_blob(Records *r, size_t more) {
    if (r->blob_len + more <= r->blob_cap) return 0;
    size_t most = r->stride == VARIABLE ? (size_t)UINT32_MAX : (size_t)PY_SSIZE_T_MAX;
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
    if ((r->count + 1) * 2 > r->mask && grow_table(r) < 0) return -1;
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

static int reserve_scratch(Records *r, size_t size) {
    if (size <= r->scratch_cap) return 0;
    uint8_t *scratch = PyMem_Realloc(r->scratch, size * 2);
    if (!scratch) {
        PyErr_NoMemory();
        return -1;
    }
    r->scratch = scratch;
    r->scratch_cap = size * 2;
    return 0;
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
    return (PyObject *)r;
}

static void Records_dealloc(Records *r) {
    PyMem_Free(r->blob);
    PyMem_Free(r->offsets);
    PyMem_Free(r->parent);
    PyMem_Free(r->via);
    PyMem_Free(r->table);
    PyMem_Free(r->scratch);
    PyMem_Free(r->entries);
    PyMem_Free(r->steps);
    PyMem_Free(r->made);
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
} Entries;

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
    for (size_t i = 0; i < old_size; i++) {
        if (!old[i].used) continue;
        NEntry *it = entries_slot(e, old[i].tail, hash_record(old[i].tail, TAIL_SIZE),
                                  old[i].tid, old[i].number);
        *it = old[i];
    }
    PyMem_Free(old);
    return 0;
}

static PyObject *Entries_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Entries *e = (Entries *)type->tp_alloc(type, 0);
    if (!e) return NULL;
    if (entries_rebuild(e, 1024) < 0) {
        Py_DECREF(e);
        return NULL;
    }
    return (PyObject *)e;
}

static void Entries_dealloc(Entries *e) {
    PyMem_Free(e->slots);
    PyMem_Free(e->pool);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static Py_ssize_t Entries_len(Entries *e) { return (Py_ssize_t)e->count; }

/* Room for `count` items of `size` bytes in a growable buffer. */
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
    if ((e->count + 1) * 2 > e->mask && entries_rebuild(e, (e->mask + 1) * 2) < 0) return NULL;
    size_t pool_before = e->pool_len;
    NEntry it;
    memset(&it, 0, sizeof(it));
    memcpy(it.tail, tail, TAIL_SIZE);
    it.tid = (uint16_t)tid;
    it.number = (uint32_t)number;
    it.interpret = (uint8_t)interpret;
    it.ample = it.handover = -1;
    it.used = 1;
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
    *entries_slot(e, tail, tail_hash, (size_t)tid, (uint32_t)number) = it;
    e->count++;
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
    Py_RETURN_NONE;
}

static PyMethodDef Entries_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Entries_add, METH_FASTCALL,
     "add(tail, tid, number, entry): a thread's step-table entry in a shared part"},
    {"clear", (PyCFunction)Entries_clear, METH_NOARGS, "clear(): forget every entry"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Entries_as_sequence = {
    .sq_length = (lenfunc)Entries_len,
};

static PyTypeObject EntriesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gilcheck.explore._records.Entries",
    .tp_basicsize = sizeof(Entries),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The step table's entries, by shared part, thread id and thread number.",
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

/* Start loading the step-table entries of state `sid`'s threads. */
static void prefetch_entries(const Records *r, const Entries *table, size_t sid) {
    if (sid >= r->count) return;
    size_t len, at = record_at(r, sid, &len);
    const uint8_t *record = r->blob + at;
    size_t n = len >= 2 ? ((size_t)record[0] | (size_t)record[1] << 8) : 0;
    if (len != 2 + 4 * n + TAIL_SIZE) return;
    uint64_t tail_hash = hash_record(record + 2 + 4 * n, TAIL_SIZE);
    for (size_t tid = 0; tid < n; tid++) {
        uint32_t number;
        memcpy(&number, record + 2 + 4 * tid, 4);
        __builtin_prefetch(&table->slots[entry_hash(tail_hash, tid, number) & table->mask]);
    }
}

/* expand(sid, stop, max_states, entries, ample, starts, dst, dst_len)
 *   -> (next sid, states expanded, transitions) */
static PyObject *Records_expand(Records *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "expand takes 8 arguments");
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
    int ample = PyObject_IsTrue(args[4]);
    if (ample < 0) return NULL;
    PyObject *starts_array = args[5], *dst_array = args[6];
    Py_ssize_t dst_len = PyLong_AsSsize_t(args[7]);
    if (dst_len == -1 && PyErr_Occurred()) return NULL;
    if (sid < 0 || (size_t)sid < r->base) { /* below `base`: a record not kept */
        PyErr_SetString(PyExc_IndexError, "no such state");
        return NULL;
    }
    if (r->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the records are in use");
        return NULL;
    }
    r->busy = 1;
    int edges = dst_array != Py_None;
    Ints starts = {0}, dst = {0};
    Py_ssize_t expanded = 0, transitions = 0;
    int failed = 0, halted = 0;
    while (!halted && !failed) {
        /* 1. The successors of up to BATCH states: made, hashed, their index slots loading.
         *    Nothing is stored yet, so the byte area stays where it is. */
        size_t states = 0, total = 0, bytes = 0;
        Py_ssize_t at_sid = sid;
        while (states < BATCH) {
            if (at_sid >= stop || (size_t)at_sid >= r->count) {
                halted = 1;
                break;
            }
            size_t len, a = record_at(r, (size_t)at_sid, &len);
            const uint8_t *stored = r->blob + a;
            size_t n = len >= 2 ? ((size_t)stored[0] | (size_t)stored[1] << 8) : 0;
            size_t cut = 2 + 4 * n;
            /* not a record the table makes, or an ended program */
            if (len < 2 + TAIL_SIZE || cut + TAIL_SIZE != len || stored[len - 1]) {
                halted = 1;
                break;
            }
            if (reserve_items((void **)&r->entries, &r->entries_cap, n ? n : 1,
                              sizeof(NEntry *)) < 0) {
                failed = 1;
                break;
            }
            const uint8_t *tail = stored + cut;
            uint64_t tail_hash = hash_record(tail, TAIL_SIZE);
            NEntry **entries = r->entries;
            size_t tid;
            for (tid = 0; tid < n; tid++) {
                uint32_t number;
                memcpy(&number, stored + 2 + 4 * tid, 4);
                NEntry *entry = entries_find(table, tail, tail_hash, tid, number);
                if (!entry || entry->interpret) break;
                entries[tid] = entry;
            }
            if (tid < n) { /* Python makes the missing entries, or interprets the thread */
                halted = 1;
                break;
            }
            prefetch_entries(r, table, (size_t)at_sid + 1);
            /* The state's steps: the first thread's ample step, or every thread's steps
             * with the GIL owner's handover after its own when another thread wants it. */
            size_t count = 0;
            if (ample) {
                for (tid = 0; tid < n; tid++) {
                    if (entries[tid]->ample >= 0) {
                        if (reserve_items((void **)&r->steps, &r->steps_cap, 1,
                                          sizeof(Patch)) < 0) {
                            failed = 1;
                            break;
                        }
                        r->steps[0].patch = &table->pool[entries[tid]->ample];
                        r->steps[0].tid = tid;
                        count = 1;
                        break;
                    }
                }
            }
            if (!count && !failed) {
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
                    if (reserve_items((void **)&r->steps, &r->steps_cap, count + k + 1,
                                      sizeof(Patch)) < 0) {
                        failed = 1;
                        break;
                    }
                    for (size_t i = 0; i < k; i++) {
                        r->steps[count].patch = &table->pool[entry->first + (int32_t)i];
                        r->steps[count++].tid = tid;
                    }
                    if (hands) {
                        r->steps[count].patch = &table->pool[entry->handover];
                        r->steps[count++].tid = tid;
                    }
                }
            }
            if (failed) break;
            Patch *steps = r->steps;
            int python = 0;
            for (size_t i = 0; i < count; i++) python |= steps[i].patch->python;
            if (python || count == 0) { /* a violation, a limit, or no step: Python's */
                halted = 1;
                break;
            }
            if (reserve_scratch(r, bytes + count * len) < 0 ||
                reserve_items((void **)&r->made, &r->made_cap, total + count, sizeof(Made)) < 0) {
                failed = 1;
                break;
            }
            for (size_t i = 0; i < count; i++) {
                uint8_t *next = r->scratch + bytes + i * len;
                memcpy(next, stored, cut);
                memcpy(next + 2 + 4 * steps[i].tid, &steps[i].patch->number, 4);
                memcpy(next + cut, steps[i].patch->tail, TAIL_SIZE);
                uint64_t hash = record_hash(r, next, len);
                r->made[total + i].hash = hash;
                r->made[total + i].via = steps[i].patch->via;
                __builtin_prefetch(r->compact ? (const void *)&r->fps[hash & r->fp_mask]
                                              : (const void *)&r->table[hash & r->mask]);
            }
            r->batch_count[states] = count;
            r->batch_len[states] = len;
            states++;
            total += count;
            bytes += count * len;
            at_sid++;
        }
        if (failed) break;
        /* 2. The records their index slots name load too. */
        if (!r->compact) {
            for (size_t j = 0; j < total; j++) {
                int32_t known = r->table[r->made[j].hash & r->mask];
                if (known >= 0) {
                    size_t known_len;
                    __builtin_prefetch(r->blob + record_at(r, (size_t)known, &known_len));
                }
            }
        }
        /* 3. Stored in order, state by state: the same ids as one state at a time. */
        size_t j = 0, offset = 0;
        for (size_t k = 0; k < states; k++) {
            if ((Py_ssize_t)r->count >= max_states) {
                halted = 1;
                break;
            }
            if (edges && ints_push(&starts, (int32_t)(dst_len + (Py_ssize_t)dst.len)) < 0) {
                failed = 1;
                break;
            }
            size_t len = r->batch_len[k];
            for (size_t i = 0; i < r->batch_count[k]; i++, j++, offset += len) {
                Py_ssize_t target = intern_record(r, r->scratch + offset, len, r->made[j].hash,
                                                  (int32_t)sid, r->made[j].via);
                if (target == -1 || (edges && ints_push(&dst, (int32_t)target) < 0)) {
                    failed = 1;
                    break;
                }
            }
            if (failed) break;
            expanded++;
            transitions += (Py_ssize_t)r->batch_count[k];
            sid++;
        }
    }
    r->busy = 0;
    PyObject *result = NULL;
    if (failed) {
        /* Hand over the edges of the states expanded before the error, keeping it. */
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        if (ints_flush(&starts, starts_array) < 0 || ints_flush(&dst, dst_array) < 0)
            PyErr_Clear();
        PyErr_Restore(type, value, traceback);
    } else if (ints_flush(&starts, starts_array) == 0 && ints_flush(&dst, dst_array) == 0) {
        result = Py_BuildValue("nnn", sid, expanded, transitions);
    }
    PyMem_Free(starts.items);
    PyMem_Free(dst.items);
    return result;
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
    {"parent", (PyCFunction)Records_parent, METH_O, "parent(id) -> the id it was found from"},
    {"via", (PyCFunction)Records_via, METH_O, "via(id) -> the number of its first action"},
    {"expand", (PyCFunction)(void (*)(void))Records_expand, METH_FASTCALL,
     "expand(sid, stop, max_states, entries, ample, starts, dst, dst_len) -> "
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

static PyMethodDef module_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL,
     "configure(StoreFull, INTERPRET)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "gilcheck.explore._records", "gilcheck's state records in C.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__records(void) {
    if (PyType_Ready(&RecordsType) < 0 || PyType_Ready(&EntriesType) < 0) return NULL;
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
    return module;
}

# attention.cu's register-chunked loops, for every headDim 32..256 and both cache types: the K loop (KN vectors of
# QK_VEC dims per pass over a warp's dq dims) covers each dim once; the V loop (VN rows per chunk, rows grp + b*groups)
# covers each of a tile's n <= 32 rows once; groups * headDim fits red[] (512) and groups * rowThreads <= 128.
KN=8
for dt,VEC,VN in (('f16',8,16),('f32',4,8)):
  for hd in range(32,257,32):
    dq=hd//4; rowThreads=hd//4; groups=128//rowThreads
    # K: each warp covers dims [d0, d0+dq)
    dims=[]
    d=0
    while d<dq:
        for i in range(KN):
            if d+i*VEC<dq: dims+=list(range(d+i*VEC,d+i*VEC+VEC))
        d+=KN*VEC
    assert sorted(dims)==list(range(dq)), (dt,hd)
    assert all(x<dq for x in dims)
    for n in range(1,33):
        rows=[]
        for grp in range(groups):
            b=0
            while grp+b*groups<n:
                for i in range(VN):
                    l=grp+(b+i)*groups
                    if l<n: rows.append(l)
                b+=VN
        assert sorted(rows)==list(range(n)),(dt,hd,n)
    assert groups*hd<=512 and groups*rowThreads<=128
    print(dt,hd,'ok groups',groups,'threads used',groups*rowThreads)

# Writes the bad-input corpus cases added for issue 11's 'Bad input that is not refused cleanly'
# (test/bad-input/cases/<name>/): the bad files, then case.json with the message the built CLI gives,
# which is reviewed by hand before it is committed. Usage: /usr/bin/python3 scripts/make-bad-input-cases.py [name …]
import json, os, subprocess, sys, zipfile, io, struct, shutil
root=os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
cases=root+'/test/bad-input/cases'
S='../../shared'
net2=lambda layers, **kw: json.dumps({"input":2,"layers":layers,"loss":"binary_cross_entropy",**kw}, indent=2)
def npy(arr_shape, values):
    hdr="{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % (', '.join(map(str,arr_shape)) + (',' if len(arr_shape)==1 else ''))
    hdr=hdr+' '*(64-(10+len(hdr)+1)%64)+'\n'
    return b'\x93NUMPY\x01\x00'+struct.pack('<H',len(hdr))+hdr.encode()+struct.pack('<%dd'%len(values),*values)
shared_params=json.load(open(root+'/test/bad-input/shared/params.json'))
def params_npz_members():
    out={}
    for k,v in shared_params.items():
        flat=[x for row in v for x in row]
        out[k+'.npy']=npy([len(v),len(v[0])],flat)
    return out
spec={}
def case(name, why, args, files={}, env=None, spawn=False, links={}, file=None, place=None):
    spec[name]=dict(why=why,args=args,files=files,env=env,spawn=spawn,links=links,file=file,place=place)
tanh_sig=[{"units":4,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]
# reading
case('net-dev-zero','net.json is a symlink to /dev/zero, which never ends',['net.json',S+'/data.csv'],links={'net.json':'/dev/zero'},spawn=True)
case('csv-dev-zero','data.csv is a symlink to /dev/zero',[S+'/net.json','data.csv'],links={'data.csv':'/dev/zero'})
case('params-dev-zero','a parameter file that is a symlink to /dev/zero',[S+'/net.json',S+'/data.csv','--params','params.json'],links={'params.json':'/dev/zero'})
case('npz-dev-zero','an .npz that is a symlink to /dev/zero',[S+'/net.json',S+'/data.csv','--params','params.npz'],links={'params.npz':'/dev/zero'})
case('grads-dev-null','a gradient file that is a symlink to /dev/null (a device, empty today, anything tomorrow)',[S+'/net.json',S+'/data.csv','--params',S+'/params.json','--grads','grads.json'],links={'grads.json':'/dev/null'})
# sizes
case('net-units-1e308','a layer of 1e308 units (exit 3 and a stack before)',['net.json',S+'/data.csv'],files={'net.json':net2([{"units":1e308,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]).replace('1e+308','1e308')})
case('net-units-overflow','units of 1e400, which JSON.parse reads as Infinity',['net.json',S+'/data.csv'],files={'net.json':net2([{"units":"X","activation":"tanh"},{"units":1,"activation":"sigmoid"}]).replace('"X"','1e400')})
case('net-two-wide-layers','two layers of 20,000 units: 400 million weights (34 s and 3 GB before being refused)',['net.json',S+'/data.csv'],files={'net.json':net2([{"units":20000,"activation":"tanh"},{"units":20000,"activation":"tanh"},{"units":1,"activation":"sigmoid"}])})
case('net-wide-1e5','two layers of 100,000 units',['net.json',S+'/data.csv'],files={'net.json':net2([{"units":100000,"activation":"tanh"},{"units":100000,"activation":"tanh"},{"units":1,"activation":"sigmoid"}])})
case('net-first-layer-wide-data','a first layer whose width times the data columns is too large, known only from the data',['net.json','data.csv'],files={'net.json':json.dumps({"layers":[{"units":200000,"activation":"tanh"},{"units":1,"activation":"sigmoid"}],"loss":"binary_cross_entropy"}),'data.csv':'\n'.join(','.join(['0.5']*60+['1']) for _ in range(3))+'\n'})
deep=[{"units":4,"activation":"tanh"}]*5000+[{"units":1,"activation":"sigmoid"}]
case('limit-5000-layers','5000 layers: under the evaluation limit, but each evaluation goes through every later layer (two minutes before)',['net.json',S+'/data.csv'],files={'net.json':json.dumps({"input":2,"layers":deep,"loss":"binary_cross_entropy"})})
case('limit-5000-layers-directional','5000 layers in directional mode',['net.json',S+'/data.csv','--mode','directional','--directions','50'],files={'net.json':json.dumps({"input":2,"layers":deep,"loss":"binary_cross_entropy"})})
case('limit-directions-huge','--directions 1e7 (out of memory before)',[S+'/net.json',S+'/data.csv','--directions','10000000'])
case('limit-forward-values','a 2e6-wide layer on 16 samples: 3.2e7 values in one forward pass',['net.json','data.csv'],files={'net.json':net2([{"units":2000000,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]),'data.csv':'x1,x2,label\n'+''.join('0.1,0.2,1\n' for _ in range(16))})
case('csv-too-many-columns','a CSV line of more than 100,000 columns, refused before it is parsed',[S+'/net.json','data.csv'],files={'data.csv':','.join(['0']*100002)+'\n'})
case('env-threads-1000','BACKPROP_CHECK_THREADS=1000',[S+'/net.json',S+'/data.csv'],env={'BACKPROP_CHECK_THREADS':'1000'})
case('env-threads-word','BACKPROP_CHECK_THREADS that is not a number (ignored silently before)',[S+'/net.json',S+'/data.csv'],env={'BACKPROP_CHECK_THREADS':'many'})
case('env-threads-zero','BACKPROP_CHECK_THREADS=0',[S+'/net.json',S+'/data.csv'],env={'BACKPROP_CHECK_THREADS':'0'})
# overflow
def rep(obj, marker='"OVER"', lit='1e400'):
    return json.dumps(obj, indent=2).replace(marker, lit)
case('net-alpha-overflow','a leaky_relu alpha of 1e400 (silently Infinity before)',['net.json',S+'/data.csv'],files={'net.json':rep({"input":2,"layers":[{"units":4,"activation":{"name":"leaky_relu","alpha":"OVER"}},{"units":1,"activation":"sigmoid"}],"loss":"binary_cross_entropy"})})
case('net-l2-overflow','an l2 of 1e400',['net.json',S+'/data.csv'],files={'net.json':rep({"input":2,"layers":tanh_sig,"loss":"binary_cross_entropy","l2":"OVER"})})
case('net-l2-coefficient-overflow','an l2 coefficient of -1e999',['net.json',S+'/data.csv'],files={'net.json':rep({"input":2,"layers":tanh_sig,"loss":"binary_cross_entropy","l2":{"coefficient":"OVER"}},lit='-1e999')})
case('net-init-scale-overflow','an init scale of 1e400',['net.json',S+'/data.csv'],files={'net.json':rep({"input":2,"layers":tanh_sig,"loss":"binary_cross_entropy","init":{"scheme":"normal","scale":"OVER"}})})
p=json.loads(json.dumps(shared_params)); p['W2'][0][2]="OVER"
case('params-overflow','a weight of 1e400 in a parameter file',[S+'/net.json',S+'/data.csv','--params','params.json'],files={'params.json':rep(p)})
g=json.load(open(root+'/test/bad-input/shared/grads.json')); g['db1'][3][0]="OVER"
case('grads-overflow','a gradient of -1e400',[S+'/net.json',S+'/data.csv','--params',S+'/params.json','--grads','grads.json'],files={'grads.json':rep(g,lit='-1e400')})
zeros='{"dW1":[[0,0],[0,0],[0,0],[0,0]],"db1":[[0],[0],[0],[1e400]],"dW2":[[0,0,0,0]],"db2":[[0]]}'
case('exec-overflow','an --exec program that prints 1e400',[S+'/net.json',S+'/data.csv','--exec',"echo '%s'"%zeros],spawn=True)
# flags
F=[S+'/net.json',S+'/data.csv']
case('flag-epsilon-denormal','a denormal step, 5e-324: θ + h == θ for every weight above 1e-308',F+['--epsilon','5e-324'])
case('flag-epsilon-below-resolution','a step of 1e-17: 1 + h == 1',F+['--epsilon','1e-17'])
case('flag-tolerance-denormal','a tolerance of 1e-320, below any relative error float64 can tell',F+['--tolerance','1e-320'])
case('flag-exec-timeout-overflow','--exec-timeout 1e400',F+['--exec','true','--exec-timeout','1e400'])
case('flag-exec-timeout-negative-zero','--exec-timeout -0',F+['--exec','true','--exec-timeout','-0'])
case('flag-exec-timeout-nan','--exec-timeout NaN',F+['--exec','true','--exec-timeout','NaN'])
case('flag-exec-timeout-hex','--exec-timeout 0x10',F+['--exec','true','--exec-timeout','0x10'])
case('flag-samples-overflow','--samples 1e400',F+['--mode','sample','--samples','1e400'])
case('flag-samples-huge-digits','--samples of 30 digits, beyond exact integers',F+['--mode','sample','--samples','123456789012345678901234567890'])
case('flag-max-evaluations-hex','--max-evaluations 0x100',F+['--max-evaluations','0x100'])
case('flag-seed-nan','--seed NaN',F+['--seed','NaN'])
case('flag-epsilon-long-value','a 200-character value, quoted in part',F+['--epsilon','9'*200])
case('net-init-seed-too-large','an init seed of 2**32, which the 32-bit generator would read as 0',['net.json',S+'/data.csv'],files={'net.json':net2(tanh_sig, init={"seed":4294967296})})
# ambiguity
case('flag-params-twice','--params given twice: which one?',F+['--params','a.json','--params','b.json'])
case('flag-epsilon-twice','--epsilon given twice, once with =',F+['--epsilon=1e-6','--epsilon','1e-5'])
case('flag-target-twice','--target given twice',F+['--target','label','--target','x2'])
case('flag-exec-twice','--exec given twice',F+['--exec','true','--exec','false'])
case('target-column-twice','--target naming one column twice',[S+'/mse.json',S+'/data.csv','--target','label,label'])
case('target-same-column-by-name-and-number','--target naming a column by name and by number',[S+'/mse.json',S+'/data.csv','--target','label,3'])
case('csv-header-target-twice','a header naming the target twice',[S+'/net.json','data.csv'],files={'data.csv':'x1,label,label\n0.1,0.9,1\n0.8,0.2,0\n'})
m=params_npz_members()
buf=io.BytesIO()
with zipfile.ZipFile(buf,'w') as z:
    import warnings; warnings.simplefilter('ignore')
    for k,v in m.items(): z.writestr(k,v)
    z.writestr('W1.npy', npy([4,2],[9.0]*8))
case('npz-duplicate-member','a zip with two members named W1.npy (unzipping keeps the last)',[S+'/net.json',S+'/data.csv','--params','params.npz'],files={'params.npz':buf.getvalue()})
def npy_raw(shape_s, payload):
    hdr="{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape_s
    hdr=hdr+' '*(64-(10+len(hdr)+1)%64)+'\n'
    return b'\x93NUMPY\x01\x00'+struct.pack('<H',len(hdr))+hdr.encode()+payload
buf=io.BytesIO()
with zipfile.ZipFile(buf,'w') as z: z.writestr('W1.npy', npy_raw('(%s, 2)' % ('9'*400), b'\0'*64))
case('npz-shape-overflow','an .npy header with a 400-digit dimension (said "null" before)',[S+'/net.json',S+'/data.csv','--params','params.npz'],files={'params.npz':buf.getvalue()})
# wording
import tempfile
td=tempfile.mkdtemp()
for k,v in params_npz_members().items(): open(os.path.join(td,k),'wb').write(v)
subprocess.run(['zip','-q','-P','secret','enc.npz']+sorted(params_npz_members()),cwd=td,check=True)
case('npz-encrypted','a password-protected zip (called damaged before)',[S+'/net.json',S+'/data.csv','--params','params.npz'],files={'params.npz':open(os.path.join(td,'enc.npz'),'rb').read()})
p=json.loads(json.dumps(shared_params)); p['K'*100000]=[[0]]
case('params-long-key','a 100,000-character tensor name: quoted in part, with its length',[S+'/net.json',S+'/data.csv','--params','params.json'],files={'params.json':json.dumps(p)})
p='{"W1": [[0.5, -0.3]], "%s": 1, "%s": 2}' % ('é'*5000,'é'*5000)
case('params-long-duplicate-key','a 5,000-character key given twice',[S+'/net.json',S+'/data.csv','--params','params.json'],files={'params.json':p})
case('params-key-with-newline','a key holding a newline, quoted on one line',[S+'/net.json',S+'/data.csv','--params','params.json'],files={'params.json':'{"W1\\nW2": [[0]]}'})
netj=open(root+'/test/bad-input/shared/net.json').read()
case('net-utf32-le','net.json saved as UTF-32 (little-endian): called UTF-16 before',['net.json',S+'/data.csv'],files={'net.json':b'\xff\xfe\x00\x00'+netj.encode('utf-32-le')})
case('net-utf32-be','net.json saved as UTF-32 (big-endian): called binary before',['net.json',S+'/data.csv'],files={'net.json':b'\x00\x00\xfe\xff'+netj.encode('utf-32-be')})
case('csv-utf32','data.csv saved as UTF-32',[S+'/net.json','data.csv'],files={'data.csv':open(root+'/test/bad-input/shared/data.csv').read().encode('utf-32')})
case('net-softmax-one-unit','a one-unit softmax with cross-entropy (always 1: reported as NaN before)',['net.json',S+'/data.csv'],files={'net.json':json.dumps({"input":2,"layers":[{"units":4,"activation":"tanh"},{"units":1,"activation":"softmax"}],"loss":"categorical_cross_entropy"})})
case('exec-newline-command','an --exec command with a newline: the message stays on one line',F+['--exec','echo one\nexit 3'],spawn=True)
case('net-unknown-long-property','a 10,000-character unknown property in net.json',['net.json',S+'/data.csv'],files={'net.json':json.dumps({"input":2,"layers":tanh_sig,"loss":"binary_cross_entropy","z"*10000:1})})

# issue 14: the layer types, layouts and .npz data
def npz_bytes(arrays):
    buf=io.BytesIO()
    with zipfile.ZipFile(buf,'w') as z:
        for k,(shape,values) in arrays.items(): z.writestr(k+'.npy',npy(shape,values))
    return buf.getvalue()
img=lambda layers, loss="binary_cross_entropy", inp=[1,6,6]: json.dumps({"input":inp,"layers":layers,"loss":loss}, indent=2)
head=[{"type":"flatten"},{"units":1,"activation":"sigmoid"}]
case('net-conv-kernel-too-large','a conv2d kernel larger than its padded input',['net.json','data.csv'],files={'net.json':img([{"type":"conv2d","filters":2,"kernel":7}]+head),'data.csv':''})
case('net-conv-stride-zero','a conv2d stride of 0',['net.json','data.csv'],files={'net.json':img([{"type":"conv2d","filters":2,"kernel":3,"stride":0}]+head),'data.csv':''})
case('net-conv-output-not-whole','a conv2d whose windows do not tile the input: the sizes, and the strides and paddings that would fit',['net.json','data.csv'],files={'net.json':img([{"type":"conv2d","filters":2,"kernel":3,"stride":2}]+head),'data.csv':''},spawn=True)
case('net-pool-flat-input','max pooling on a flat input',['net.json',S+'/data.csv'],files={'net.json':net2([{"type":"maxpool2d","size":2},{"units":1,"activation":"sigmoid"}])})
case('net-dense-after-image','a dense layer directly after a conv2d (no flatten)',['net.json','data.csv'],files={'net.json':img([{"type":"conv2d","filters":2,"kernel":3},{"units":1,"activation":"sigmoid"}]),'data.csv':''})
case('net-flatten-flat-input','a flatten of flat features',['net.json',S+'/data.csv'],files={'net.json':net2([{"type":"flatten"},{"units":1,"activation":"sigmoid"}])})
case('net-dropout-keep-zero','dropout with keep 0',['net.json',S+'/data.csv'],files={'net.json':net2([{"type":"dropout","keep":0},{"units":1,"activation":"sigmoid"}])})
case('net-dropout-keep-above-one','dropout with keep 1.2 (PyTorch\'s p is the probability of dropping)',['net.json',S+'/data.csv'],files={'net.json':net2([{"type":"dropout","keep":1.2},{"units":1,"activation":"sigmoid"}])})
case('net-layer-type-keras','a Keras class name as the layer type',['net.json',S+'/data.csv'],files={'net.json':net2([{"type":"Conv2D","filters":2,"kernel":3},{"units":1,"activation":"sigmoid"}])})
case('net-loss-average-samples','an MSE average other than over the outputs',['net.json',S+'/data.csv'],files={'net.json':json.dumps({"input":2,"layers":tanh_sig,"loss":{"name":"mean_squared_error","average":"samples"}})})
case('csv-image-columns','data.csv with fewer feature columns than the image input\'s C·H·W',['net.json',S+'/data.csv'],files={'net.json':img(head,inp=[1,2,3])})
case('csv-batchnorm-one-sample','batch norm checked on one sample (variance 0)',['net.json','data.csv'],files={'net.json':net2([{"type":"batchnorm"},{"units":1,"activation":"sigmoid"}]),'data.csv':'x1,x2,label\n0.1,0.2,1\n'},spawn=True)
case('npz-data-other-layout','--data arrays in the rows layout under the columns default',[S+'/net.json','--data','data.npz'],files={'data.npz':npz_bytes({'X':([3,2],[0.1,0.2,0.3,0.4,0.5,0.6]),'Y':([3,1],[1,0,1])})},spawn=True)
case('npz-data-features','--data X with another number of features than net.json\'s input',[S+'/net.json','--data','data.npz'],files={'data.npz':npz_bytes({'X':([3,4],[0.0]*12),'Y':([1,4],[1,0,1,0])})})
case('npz-data-extra-array','--data holding an array other than X and Y',[S+'/net.json','--data','data.npz'],files={'data.npz':npz_bytes({'X':([2,2],[0.1,0.2,0.3,0.4]),'Y':([2],[1,0]),'W1':([1],[1.0])})})
case('npz-data-image-flat','--data with an image X stored flat',['net.json','--data','data.npz'],files={'net.json':img([{"type":"flatten"},{"units":1,"activation":"sigmoid"}],inp=[1,2,2]),'data.npz':npz_bytes({'X':([4,2],[0.0]*8),'Y':([2],[1,0])})})
case('args-data-twice','a data file argument and --data',[S+'/net.json',S+'/data.csv','--data',S+'/data.csv'])
drop_net=net2([{"units":4,"activation":"tanh"},{"type":"dropout","keep":0.8},{"units":1,"activation":"sigmoid"}])
drop_params=lambda mask: json.dumps({"W1":shared_params["W1"],"b1":shared_params["b1"],"W3":shared_params["W2"],"b3":shared_params["b2"],"mask2":mask})
case('params-mask-shape','a dropout mask{l} of the wrong shape (samples and features swapped)',['net.json',S+'/data.csv','--params','params.json'],files={'net.json':drop_net,'params.json':drop_params([[1,0,1,1]]*6)})
case('params-mask-not-binary','a dropout mask already divided by keep',['net.json',S+'/data.csv','--params','params.json'],files={'net.json':drop_net,'params.json':drop_params([[1.25,0,1.25,1.25,0,1.25]]*4)},spawn=True)

import re
only=sys.argv[1:]
for name,c in spec.items():
    if only and name not in only: continue
    d=os.path.join(cases,name)
    if os.path.exists(d): shutil.rmtree(d)
    os.makedirs(d)
    for f,content in c['files'].items():
        open(os.path.join(d,f),'wb').write(content if isinstance(content,bytes) else content.encode())
    for f,target in c['links'].items(): os.symlink(target,os.path.join(d,f))
    env=dict(os.environ, NO_COLOR='1'); env.pop('FORCE_COLOR',None)
    if c['env']: env.update(c['env'])
    r=subprocess.run(['node',root+'/bin/backprop-check.js']+c['args'],cwd=d,env=env,capture_output=True,text=True,timeout=120)
    err=r.stderr
    line=err[err.rfind('backprop-check: '):].rstrip('\n') if 'backprop-check: ' in err else err
    msg=line[len('backprop-check: '):]
    prefix=msg.split(': expected ',1)[0]
    file=None
    for cand in ['command line','environment']+[a for a in c['args']]+list(c['files'])+list(c['links']):
        if prefix==cand or prefix.startswith(cand+', '):
            file=cand; break
    if prefix.startswith('--exec "'):
        file=prefix if not re.search(r'", [a-z]+$',prefix) else prefix[:prefix.rfind(', ')]
    place=prefix[len(file)+2:] if file and len(prefix)>len(file) else ''
    print(f"== {name} status={r.status if hasattr(r,'status') else r.returncode} stdout={len(r.stdout)}\n  {msg[:600]}")
    out=dict(why=c['why'],args=c['args'])
    if c['env']: out['env']=c['env']
    out.update(file=file,place=place,message=msg)
    if c['spawn']: out['spawn']=True
    json.dump(out,open(os.path.join(d,'case.json'),'w'),indent=2,ensure_ascii=False)
    open(os.path.join(d,'case.json'),'a').write('\n')

